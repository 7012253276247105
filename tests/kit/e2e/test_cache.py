"""``--cache DIR``: a regrade reruns only the steps whose files, hidden tests or kit changed."""

import json

import pytest

from grader.grading import batch, cache
from grader.sandbox.bwrap import choose_isolation
from tests.kit.submission_files import grade_command, reference, submission_with

STEP02, STEP03 = "step02_exp_positivity", "step03_normalization"
BROKEN03 = reference(STEP03).replace("return x - logsumexp(x)", "return 0")


def flags(document):
    """``{(name, step): cached}`` of every step graded."""
    return {
        (sub["name"], step): entry["cached"]
        for sub in document["submissions"]
        for step, entry in sub["steps"].items()
    }


def without_flags(sub):
    return {step: {k: v for k, v in e.items() if k != "cached"} for step, e in sub["steps"].items()}


@pytest.mark.timeout(600)  # three gradings of two submissions on two busy cores
def test_a_regrade_reruns_only_what_changed(tmp_path, monkeypatch):
    assert BROKEN03 != reference(STEP03)
    folder = tmp_path / "class"
    folder.mkdir()
    alice = submission_with(folder, "alice", {f"{s}.py": reference(s) for s in (STEP02, STEP03)})
    bob = submission_with(folder, "bob", {f"{STEP02}.py": reference(STEP02)})
    (bob / f"{STEP03}.py").write_text(BROKEN03)
    store, out = tmp_path / "cache", tmp_path / "results.json"

    def grade():
        run = grade_command(
            folder, "--steps", "2,3", "--jobs", "2", "--cache", store, "--json", out
        )
        assert run.returncode in (0, 1), run.stderr[-2000:]
        return json.loads(out.read_text()), run.stderr

    first, _ = grade()
    assert set(flags(first).values()) == {False}
    assert [s["score"] for s in first["submissions"]] == [34.0, 31.0]
    assert len(list(store.iterdir())) == 4

    again, _ = grade()  # nothing changed: nothing is graded, the same results
    assert set(flags(again).values()) == {True}
    for before, after in zip(first["submissions"], again["submissions"], strict=True):
        assert without_flags(after) == without_flags(before)
        assert after["score"] == before["score"]

    # Bob fixes step 03; alice's step 02 file in the cache is cut short (a crash).
    (bob / f"{STEP03}.py").write_text(reference(STEP03))
    alices = cache.Cache(store, choose_isolation("auto"), None).keys(alice, str(alice), [STEP02])
    cut = store / f"{alices[STEP02]}.json"
    cut.write_text(cut.read_text()[:100])
    fixed, stderr = grade()
    assert flags(fixed) == {  # a student's changed file regrades all of their steps
        ("alice", STEP02): False,
        ("alice", STEP03): True,
        ("bob", STEP02): False,
        ("bob", STEP03): False,
    }
    assert "note: ignoring the cache file" in stderr
    assert [s["score"] for s in fixed["submissions"]] == [34.0, 34.0]
    assert fixed["submissions"][0]["steps"][STEP02] == first["submissions"][0]["steps"][STEP02]

    # The instructor fixes step 02's hidden tests (here: a copy of them, changed).
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    for test in cache.HIDDEN_DIR.glob("*.py"):
        (hidden / test.name).write_bytes(test.read_bytes())
    with open(hidden / f"test_{STEP02}.py", "a") as f:
        f.write("\n# fixed\n")
    monkeypatch.setattr(cache, "HIDDEN_DIR", hidden)
    subs = batch.discover([folder], tmp_path)
    entries = batch.grade_all(
        subs, [STEP02, STEP03], 2, choose_isolation("auto"), None, [], False, cache=store
    )
    regraded = {"submissions": entries}
    assert flags(regraded) == {
        ("alice", STEP02): False,
        ("alice", STEP03): True,
        ("bob", STEP02): False,
        ("bob", STEP03): True,
    }
    assert [s["score"] for s in entries] == [34.0, 34.0]
