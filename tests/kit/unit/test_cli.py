"""The command line: help with examples, --version, and usage errors (exit 2) that say
what was expected, found before any work is done."""

import pytest

from grader import __version__, cli
from grader.grading import results
from grader.steps import resolve
from tests.kit.submission_files import SOLUTIONS

COMMANDS = [
    ["grade"],
    ["stubs"],
    ["data"],
    ["release"],
    ["kit-export"],
    ["gradescope"],
    ["nbgrader"],
    ["nbgrader", "build"],
    ["nbgrader", "grade"],
]


def _exit_code(argv, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    return info.value.code, capsys.readouterr()


def test_version(capsys):
    code, out = _exit_code(["--version"], capsys)
    assert code == 0 and out.out.strip() == f"python -m grader {__version__}"


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_examples_and_no_markup(command, capsys):
    code, out = _exit_code([*command, "--help"], capsys)
    assert code == 0
    assert "example" in out.out, f"{' '.join(command)} --help shows no example"
    assert "``" not in out.out and ":func:" not in out.out  # no reST in a terminal


@pytest.mark.parametrize("spelling", ["3", "03", "step3", "step03", "step03_normalization"])
def test_a_step_can_be_named_as_people_write_it(spelling):
    assert resolve([spelling]) == ["step03_normalization"]


def test_several_steps_with_commas_or_spaces():
    assert resolve(["3,4"]) == resolve(["03", "step4"]) == resolve(["4", "3"])
    assert len(resolve(["3,4"])) == 2


@pytest.mark.parametrize("wrong", ["step3x", "100", "normalization", "step"])
def test_an_unknown_step_is_a_usage_error(wrong, capsys):
    assert cli.main(["grade", str(SOLUTIONS), "--steps", wrong]) == 2
    err = capsys.readouterr().err
    assert f"unknown step {wrong!r}" in err and "step01_plotting" in err


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--timeout-cap", "-5"], "--timeout-cap must be a positive number"),
        (["--timeout-cap", "0"], "--timeout-cap must be a positive number"),
        (["--jobs", "0"], "--jobs must be at least 1"),
        (["--resume"], "--resume needs --json"),
    ],
)
def test_wrong_options_are_usage_errors(extra, says, capsys):
    assert cli.main(["grade", str(SOLUTIONS), "--steps", "3", *extra]) == 2
    assert says in capsys.readouterr().err


@pytest.mark.parametrize("option", ["--json", "--csv", "--junit", "--gradescope"])
def test_an_output_in_a_missing_folder_is_an_error_and_no_folder_is_made(option, tmp_path, capsys):
    target = tmp_path / "typo" / "out.json"
    assert cli.main(["grade", str(SOLUTIONS), "--steps", "3", option, str(target)]) == 2
    assert f"the folder {tmp_path / 'typo'} does not exist" in capsys.readouterr().err
    assert not (tmp_path / "typo").exists()


def test_the_gradescope_bundle_must_be_a_zip_in_a_folder_that_exists(tmp_path, capsys):
    assert cli.main(["gradescope", str(tmp_path / "autograder.tar")]) == 2
    assert "ending in .zip" in capsys.readouterr().err
    assert cli.main(["gradescope", str(tmp_path / "typo" / "autograder.zip")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def _entry(name, outcomes):
    """A results entry of step 03 and 04 with two tests each; ``outcomes`` by test id."""
    inventory = [
        {"nodeid": f"{step}::t{i}", "name": f"t{i}", "step": step, "points": 1.0}
        for step in ("step03_normalization", "step04_one_hot_loss")
        for i in (1, 2)
    ]
    passed = {"status": "passed", "message": ""}
    outcomes = {t["nodeid"]: outcomes.get(t["nodeid"], passed) for t in inventory}
    steps = ["step03_normalization", "step04_one_hot_loss"]
    return results.submission_entry(name, name, inventory, outcomes, steps, "")


def test_reasons_say_why_each_step_lost_points():
    fail = {"status": "failed", "message": "softmax rows do not sum to 1\nmore detail"}
    zip_error = {"status": "error", "message": "carol.zip could not be read as a zip"}
    document = {
        "submissions": [
            _entry("alice", {}),
            _entry("bob", {"step03_normalization::t2": fail}),
            _entry(
                "carol",
                {
                    f"{s}::t{i}": zip_error
                    for s in ("step03_normalization", "step04_one_hot_loss")
                    for i in (1, 2)
                },
            ),
        ]
    }
    assert results.reasons(document) == [
        "bob step03: softmax rows do not sum to 1 (1 of 2 tests failed)",
        "carol: carol.zip could not be read as a zip",
    ]
    long = {"status": "failed", "message": "x" * 500}
    lines = results.reasons({"submissions": [_entry("dan", {"step04_one_hot_loss::t1": long})]})
    assert len(lines) == 1 and len(lines[0]) <= 160 and "..." in lines[0]
    many = {"submissions": [_entry(f"s{i}", {"step03_normalization::t1": fail}) for i in range(50)]}
    lines = results.reasons(many, most=10)
    assert len(lines) == 10 and lines[-1].startswith("... and 41 more lines")


def test_reasons_print_nothing_a_terminal_would_obey():
    """A message comes from the submission: escape sequences arrive as plain marks."""
    evil = {"status": "failed", "message": "\x1b[2J\x1b[Hall good\r\x07"}
    (line,) = results.reasons({"submissions": [_entry("eve", {"step03_normalization::t1": evil})]})
    assert line.startswith("eve step03: ") and "\x1b" not in line and "\r" not in line
    assert all(c.isprintable() for c in line)
