"""The cache of step results (grader/grading/cache.py): what a key depends on, and files
that cannot be trusted."""

import json

from grader.grading import cache
from tests.kit.submission_files import reference, submission_with

STEP03, STEP06, STEP07 = "step03_normalization", "step06_create_model", "step07_train_loop"


def entry(score=1.0, status="passed", message=""):
    test = {"name": "test_a", "score": score, "max_score": 1.0, "status": status}
    return {"score": score, "max_score": 1.0, "tests": [{**test, "message": message}]}


def test_a_key_changes_with_every_step_file(tmp_path):
    folder = submission_with(
        tmp_path, "alice", {f"{s}.py": reference(s) for s in (STEP03, STEP06, STEP07)}
    )
    store = cache.Cache(tmp_path / "cache", "bwrap", None)
    before = store.keys(folder, str(folder), [STEP03, STEP06, STEP07])
    assert len(set(before.values())) == 3
    (folder / f"{STEP06}.py").write_text(reference(STEP06) + "\n# changed\n")
    after = store.keys(folder, str(folder), [STEP03, STEP06, STEP07])
    assert all(after[s] != before[s] for s in (STEP03, STEP06, STEP07))
    (folder / f"{STEP03}.py").unlink()  # a missing file is part of the key too
    assert store.keys(folder, str(folder), [STEP03])[STEP03] != after[STEP03]
    # The same files elsewhere, another sandbox or timeout cap: another key.
    assert store.keys(folder, "elsewhere", [STEP06])[STEP06] != after[STEP06]
    off = cache.Cache(tmp_path / "cache", "off", None).keys(folder, str(folder), [STEP06])
    assert off[STEP06] != after[STEP06]
    capped = cache.Cache(tmp_path / "cache", "bwrap", 5.0).keys(folder, str(folder), [STEP06])
    assert capped[STEP06] != after[STEP06]


def test_a_changed_hidden_test_file_changes_its_step_only(tmp_path, monkeypatch):
    folder = submission_with(tmp_path, "alice", {f"{STEP03}.py": reference(STEP03)})
    before = cache.Cache(tmp_path / "cache", "bwrap", None).keys(folder, "a", [STEP03, STEP06])
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    for test in cache.HIDDEN_DIR.glob("test_*.py"):
        (hidden / test.name).write_bytes(test.read_bytes())
    (hidden / f"test_{STEP06}.py").write_text("# fixed\n", encoding="utf-8")
    monkeypatch.setattr(cache, "HIDDEN_DIR", hidden)
    after = cache.Cache(tmp_path / "cache", "bwrap", None).keys(folder, "a", [STEP03, STEP06])
    assert after[STEP03] == before[STEP03] and after[STEP06] != before[STEP06]


def test_an_entry_is_kept_and_read_back(tmp_path):
    store = cache.Cache(tmp_path / "cache", "bwrap", None)
    store.put("k1", STEP03, entry())
    assert store.get("k1", STEP03) == {**entry(), "cached": True}
    assert [p.name for p in (tmp_path / "cache").iterdir()] == ["k1.json"], "no partial file left"
    assert store.get("k2", STEP03) is None


def test_timeouts_and_unfinished_tests_are_not_kept(tmp_path):
    store = cache.Cache(tmp_path / "cache", "bwrap", None)
    store.put("k1", STEP03, entry(0.0, "timeout", "the test ran past its time limit (5 s)"))
    message = "the grading process stopped before this test finished (exit code -9)"
    store.put("k2", STEP03, entry(0.0, "error", message))
    store.put("k3", STEP03, entry(0.0, "failed", "softmax(x) is wrong"))  # a verdict: kept
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["k3.json"]


def test_a_file_that_cannot_be_trusted_is_ignored_with_a_note(tmp_path, capsys):
    store = cache.Cache(tmp_path / "cache", "bwrap", None)
    store.put("k1", STEP03, entry())
    path = tmp_path / "cache" / "k1.json"
    good = path.read_text()
    bad = {
        "cut short": good[: len(good) // 2],
        "another key": good.replace('"key": "k1"', '"key": "k9"'),
        "another step": good.replace(STEP03, STEP06),
        "not an entry": json.dumps({"format": 1, "key": "k1", "step": STEP03, "result": [1]}),
        "a score that is not its tests' sum": good.replace('"score": 1.0,', '"score": 7.0,', 1),
    }
    for what, text in [*bad.items(), ("not text", b"\xff\xfe\x00")]:
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        assert store.get("k1", STEP03) is None, what
        assert "note: ignoring the cache file" in capsys.readouterr().err, what
