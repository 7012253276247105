"""runner.grade_many (a fork per submission of one grading child) judges as grade_one does.

The kit's end-to-end tests grade their corpora through grade_many; here the same
submissions go through both, including one that ends its process at import: it costs
its own tests only, and the submission after it is graded as if alone. (Exit codes 2
to 4 are pytest's own errors: there grade_one also quotes the child's last line.)
"""

from concurrent.futures import ThreadPoolExecutor

import pytest

from grader.grading import runner
from tests.kit.grading import AT_ONCE
from tests.kit.submission_files import KIT_ROOT, reference, submission_with

pytestmark = pytest.mark.timeout(600)
STEP03, STEP04 = "step03_normalization", "step04_one_hot_loss"


def test_grade_many_judges_each_submission_as_grade_one(tmp_path, inventory):
    hard_exit = submission_with(
        tmp_path,
        "hard-exit",
        {f"{STEP03}.py": reference(STEP03) + "\nimport os\nos._exit(7)\n"},
    )
    jobs = [
        (hard_exit, [STEP03, STEP04]),
        (KIT_ROOT / "solutions", [STEP03, STEP04]),
        (KIT_ROOT / "exercises", [STEP03]),
    ]
    many = runner.grade_many(jobs, inventory)
    with ThreadPoolExecutor(AT_ONCE) as pool:
        ones = list(pool.map(lambda job: runner.grade_one(*job, inventory), jobs))
    assert many == ones
    crashed, ref, stubs = many
    assert crashed["steps"][STEP04]["score"] == 0
    assert all("exit code 7" in t["message"] for t in crashed["steps"][STEP04]["tests"])
    assert ref["score"] == ref["max_score"] > 0
    assert stubs["score"] == 0 and list(stubs["steps"]) == [STEP03]
