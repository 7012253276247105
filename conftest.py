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
        "--sandbox",
        default="off",
        choices=["off", "auto", "require", "bwrap", "process"],
        help="where submission code runs: off = in this process (default); auto = a "
        "sandboxed worker (bubblewrap if it can run, else a plain child process); "
        "require = bubblewrap or fail",
    )
    group.addoption(
        "--worker-memory-mb",
        type=int,
        default=4096,
        help="memory limit of a sandboxed worker, in MiB (default 4096)",
    )
    group.addoption(
        "--grader-timeout-cap",
        type=float,
        default=None,
        metavar="SECONDS",
        help="cap every hidden test's timeout (quick checks of hanging submissions)",
    )
    group.addoption(
        "--grader-inventory",
        default=None,
        metavar="FILE",
        help="write the hidden tests' steps and points to FILE as JSON (used by the grader)",
    )
