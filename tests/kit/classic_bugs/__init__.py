"""Classic student bugs, each a one-place edit of a reference step.

Every ``stepNN.py`` here lists ``BUGS``: a :class:`Bug` replaces ``old`` (which
must occur exactly once) by ``new`` in a copy of ``solutions/<step>.py``. The
kit's tests grade each buggy copy and assert that it loses points on its own
step and on no other step (the steps that import it included).
"""

from __future__ import annotations

import importlib
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

KIT_ROOT = Path(__file__).resolve().parents[3]
SOLUTIONS = KIT_ROOT / "solutions"


@dataclass(frozen=True)
class Bug:
    step: str  # e.g. "step03_normalization"
    name: str  # short id, e.g. "softmax-over-whole-batch"
    old: str
    new: str

    def apply(self, dest: Path) -> Path:
        """Write the reference steps with this bug into ``dest``; returns ``dest``."""
        dest.mkdir(parents=True, exist_ok=True)
        for path in SOLUTIONS.glob("step*.py"):
            if not path.name.startswith("test_"):
                shutil.copyfile(path, dest / path.name)
        target = dest / f"{self.step}.py"
        text = target.read_text()
        if text.count(self.old) != 1:
            raise ValueError(
                f"bug {self.name}: the text to replace occurs {text.count(self.old)} "
                f"times in {self.step}.py (must be exactly once)"
            )
        target.write_text(text.replace(self.old, self.new))
        return dest


def all_bugs() -> list[Bug]:
    bugs = []
    for path in sorted(Path(__file__).parent.glob("step*.py")):
        bugs.extend(importlib.import_module(f"{__name__}.{path.stem}").BUGS)
    return bugs


def dependents(step: str) -> list[str]:
    """The step itself and every reference step that imports it (directly or not)."""
    imports = {
        p.stem: set(re.findall(r"from \.(step\d\d_\w+) import", p.read_text()))
        for p in SOLUTIONS.glob("step*.py")
    }
    found, changed = {step}, True
    while changed:
        changed = False
        for name, deps in imports.items():
            if name not in found and deps & found:
                found.add(name)
                changed = True
    return sorted(found)
