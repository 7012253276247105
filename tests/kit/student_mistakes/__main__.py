"""Print what the visible tests say to each student mistake: ``python -m tests.kit.student_mistakes
[step03 ...]`` (SHOW=-v also prints the failures of the mistakes that are well caught)."""

import os
import sys
import tempfile
import time
from pathlib import Path

from tests.kit.student_mistakes import (
    all_mistakes,
    folder_name,
    judge,
    package,
    run_visible,
    tests_of,
)

wanted = sys.argv[1:]
chosen = [m for m in all_mistakes() if not wanted or any(m.step.startswith(w) for w in wanted)]
with tempfile.TemporaryDirectory() as tmp:
    root = Path(tmp)
    folders = {}
    for i, m in enumerate(chosen):
        package(root / folder_name(i, m), m)
        folders[folder_name(i, m)] = tests_of(m)
    start = time.perf_counter()
    results = run_visible(folders, root)
    took = time.perf_counter() - start
    for i, m in enumerate(chosen):
        outcome = results[folder_name(i, m)]
        problems = judge(m, outcome)
        print(f"{'ok ' if not problems else 'BAD'} {m.step[:6]} {m.name}")
        for p in problems:
            print(f"      {p}")
        if not problems and "-v" in os.environ.get("SHOW", ""):
            for name, kind, line in outcome:
                if kind:
                    print(f"      {name}: {kind}: {line[:200]}")
    print(f"{len(chosen)} mistakes, one pytest: {took:.1f} s")
