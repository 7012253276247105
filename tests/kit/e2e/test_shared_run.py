"""Tests that share one training run (grader/authoring/shared.py, step 10's autoencoder):
trained once per submission, a hang costs one timeout, the same seeds whoever asks first.

The submissions wrap the reference's train_autoencoder so that each call writes a line
(the rows trained on, and a draw of torch's generator as it was at the call) to a log
outside the submission: graded with ``--sandbox off``, where the code can write it.
"""

import json
import os
import subprocess
import sys

import pytest

from grader.grading import runner
from grader.layout import DATA_DIR, HIDDEN_DIR
from tests.kit.submission_files import grade_command, reference, submission_with

STEP10 = "step10_autoencoder"
SHARED = {"test_reconstruction_after_training", "test_code_space_neighbours_share_labels"}


def spying(log, hang=False):
    """The reference step 10 whose train_autoencoder logs each call; with ``hang``, the
    shared training (5000 digits) never ends."""
    return reference(STEP10) + (
        "\n\nimport json as _json\n"
        "_reference_train = train_autoencoder\n\n\n"
        "def train_autoencoder(model, images, *args, **kwargs):\n"
        "    draw = torch.rand(1, generator=torch.Generator().set_state(torch.get_rng_state()))\n"
        f"    with open({str(log)!r}, 'a') as f:\n"
        "        f.write(_json.dumps([len(images), draw.item()]) + '\\n')\n"
        f"    while {hang} and len(images) == 5000:\n"
        "        pass\n"
        "    return _reference_train(model, images, *args, **kwargs)\n"
    )


def shared_calls(log):
    return [draw for rows, draw in map(json.loads, log.read_text().splitlines()) if rows == 5000]


@pytest.mark.timeout(400)
def test_the_shared_training_runs_once_and_a_hang_costs_one_timeout(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    logs = {name: tmp_path / f"{name}.log" for name in ("plain", "hanging")}
    for name, log in logs.items():
        submission_with(folder, name, {f"{STEP10}.py": spying(log, hang=name == "hanging")})
    out = tmp_path / "results.json"
    run = grade_command(folder, "--steps", "10", "--sandbox", "off", "--jobs", "2", "--json", out)
    graded = {s["name"]: s["steps"][STEP10] for s in json.loads(out.read_text())["submissions"]}
    assert graded["plain"]["score"] == graded["plain"]["max_score"], run.stderr[-2000:]
    assert len(shared_calls(logs["plain"])) == 1, "the two tests trained the autoencoder twice"

    tests = {t["name"]: t for t in graded["hanging"]["tests"]}
    assert len(shared_calls(logs["hanging"])) == 1, "the hang was run again by the second test"
    verdicts = {(tests[n]["status"], tests[n]["message"]) for n in SHARED}
    assert verdicts == {("timeout", "the test ran past its time limit (15.0s)")}
    assert all(t["status"] == "passed" for n, t in tests.items() if n not in SHARED)


@pytest.mark.timeout(300)
def test_the_shared_training_starts_from_the_same_seeds_whichever_test_asks(tmp_path):
    """The second shared test alone (``-k``) trains from the generator's state the first
    one trains from in a whole run."""
    log = tmp_path / "calls.log"
    folder = submission_with(tmp_path, "alice", {f"{STEP10}.py": spying(log)})
    env = {
        **os.environ,
        "MPLBACKEND": "Agg",
        "MNIST_DATA_DIR": str(DATA_DIR),
        "OMP_NUM_THREADS": "1",
    }
    draws = []
    for select in ("training", "neighbours"):
        log.unlink(missing_ok=True)
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                str(HIDDEN_DIR / f"test_{STEP10}.py"),
                *runner.pytest_options(),
                f"--submission={folder}",
                "--sandbox=off",
                "--grader-threads=1",
                "-k",
                select,
            ],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
        )
        assert log.is_file(), run.stdout[-2000:]  # a timeout on a busy machine is no matter here
        draws.append(shared_calls(log))
    whole, alone = draws
    assert len(whole) == 1 and alone == whole
