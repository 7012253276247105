"""Root pytest configuration: the kit's command-line options and its plugin."""

from pathlib import Path

pytest_plugins = ["grader.pytest_plugin"]

KIT_ROOT = Path(__file__).resolve().parent


def pytest_addoption(parser):
    group = parser.getgroup("grader", "MNIST exercise kit")
    group.addoption(
        "--submission",
        default=str(KIT_ROOT / "solutions"),
        help="directory of step files the hidden tests grade (default: solutions/)",
    )
    group.addoption(
        "--grader-inventory",
        default=None,
        metavar="FILE",
        help="write the hidden tests' steps and points to FILE as JSON (used by the grader)",
    )
