"""The visible tests catch what they hint at, and pass on correct code in any style.

Each mistake of tests/kit/student_mistakes/ is applied to a copy of the reference in a
package folder of its own; so is each correct submission (tests/kit/styles/ and the
independent one), with its step files in place of the reference's. ONE pytest runs the
visible tests of all folders (for a mistake, only those that use the edited function); then
each mistake must fail with one plain line holding its words and no raw exception, and each
correct submission must pass.
"""

import time

import pytest

from grader.steps import STEPS
from tests.kit.student_mistakes import all_mistakes, folder_name, judge, package, run_visible
from tests.kit.student_mistakes import tests_of as visible_tests_of
from tests.kit.submission_files import INDEPENDENT, STYLES

pytestmark = pytest.mark.timeout(900)


def correct_submissions() -> dict[str, dict[str, object]]:
    """Folder name -> {step file name: path} of every correct submission."""
    found = {"independent": {p.name: p for p in INDEPENDENT.glob("step*.py")}}
    for folder in sorted(p for p in STYLES.iterdir() if p.is_dir() and p.name[0] not in "._"):
        found["style_" + folder.name.replace("-", "_")] = {
            p.name: p for p in folder.glob("step*.py")
        }
    return found


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    root = tmp_path_factory.mktemp("visible")
    folders = {}
    for i, mistake in enumerate(all_mistakes()):
        package(root / folder_name(i, mistake), mistake)
        folders[folder_name(i, mistake)] = visible_tests_of(mistake)
    for name, files in correct_submissions().items():
        package(root / name, files=files)
        folders[name] = [f"test_{s}.py" for s in STEPS if f"{s}.py" in files]
    start = time.perf_counter()
    results = run_visible(folders, root)
    print(f"\n{len(folders)} folders, one pytest: {time.perf_counter() - start:.1f} s")
    return results


@pytest.mark.parametrize(
    "i, mistake", list(enumerate(all_mistakes())), ids=lambda m: getattr(m, "name", "")
)
def test_visible_tests_name_the_mistake(outcomes, i, mistake):
    problems = judge(mistake, outcomes[folder_name(i, mistake)])
    assert not problems, f"{mistake.step} {mistake.name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("name", sorted(correct_submissions()))
def test_visible_tests_pass_on_correct_code(outcomes, name):
    outcome = outcomes[name]
    failed = [f"{test}: {kind}: {line[:300]}" for test, kind, line in outcome if kind]
    assert outcome and not failed, f"{name} fails visible tests:\n" + "\n".join(failed)
