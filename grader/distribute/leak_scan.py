"""The leak rule: which lines of ``solutions/`` give an answer away, and where they occur.

A *solution line* is a line of code inside a ``# BEGIN SOLUTION`` /
``# END SOLUTION`` region of a ``solutions/step*.py`` file that is

- not blank and not a comment;
- not *public*: it occurs nowhere outside the solution regions in ``solutions/``
  (the stubs, the visible tests and ``mnist.py`` are made of those lines, so
  they are given away anyway: ``return fig``, ``model.eval()`` and the like);
- not *trivial*: it has at least three significant tokens (names, numbers,
  strings and operators; brackets, commas, dots and keywords do not count), so
  ``return x``, ``loss.backward()`` or ``continue`` never count, while
  ``return torch.exp(x)`` does.

Lines are compared as Python token sequences, so changes of spacing or a
trailing comment do not hide a copied line. A scanned text line equal to a
solution line is a leak; so is a bare solution marker line. A notebook
(``.ipynb``) is scanned cell by cell, line by line of each cell's source (its JSON
would hide a line inside quotes). Binary files (the MNIST data) and ``.git/`` are
not scanned. Every student release is scanned
(grader/distribute/release.py); the Gradescope bundle is scanned with
``allowed=`` the kit's own grading code (grader/distribute/gradescope.py).
"""

from __future__ import annotations

import functools
import io
import json
import keyword
import re
import tokenize
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..layout import SOLUTIONS_DIR
from . import stubs

MIN_SIGNIFICANT_TOKENS = 3
_UNCOUNTED_OPS = set("()[]{},:;.") | {"->", "..."}
MAX_TEXT_BYTES = 4 * 2**20  # larger files are data, not text


@functools.lru_cache(maxsize=2**16)
def _line_key(line: str) -> tuple[str, int] | None:
    """``(normalized text, significant tokens)`` of a line; None for blank and comment lines."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    try:
        tokens = [
            t
            for t in tokenize.generate_tokens(io.StringIO(text + "\n").readline)
            if t.type
            not in (
                tokenize.COMMENT,
                tokenize.NL,
                tokenize.NEWLINE,
                tokenize.INDENT,
                tokenize.DEDENT,
                tokenize.ENDMARKER,
            )
        ]
    except (tokenize.TokenError, SyntaxError):
        tokens = None
    if not tokens:  # not a line of Python (prose, YAML, half a string): compare the words
        words = text.split()
        return " ".join(words), len(re.findall(r"\w+", text))
    significant = sum(
        (t.type == tokenize.NAME and not keyword.iskeyword(t.string))
        or t.type in (tokenize.NUMBER, tokenize.STRING)
        or (t.type == tokenize.OP and t.string not in _UNCOUNTED_OPS)
        for t in tokens
    )
    return " ".join(t.string for t in tokens), significant


def solution_lines(solutions: Path = SOLUTIONS_DIR, allowed: Iterable[Path] = ()) -> dict[str, str]:
    """The secret lines of the solution regions: ``{normalized line: "stepNN_x.py:LINE"}``.

    Lines that also occur outside the regions in ``solutions/``, or anywhere in the
    files under ``allowed``, are public; trivial lines never count (module docstring).
    """
    inside: dict[str, str] = {}
    public: set[str] = set()
    for path in sorted(Path(solutions).glob("*.py")):
        text = path.read_text()
        in_region: set[int] = set()
        for region in stubs.find_regions(text, f"solutions/{path.name}"):
            in_region.update(range(region.begin + 1, region.end))
        for i, line in enumerate(text.splitlines()):
            key = _line_key(line)
            if key is None:
                continue
            if i in in_region and path.name.startswith("step"):
                if key[1] >= MIN_SIGNIFICANT_TOKENS:
                    inside.setdefault(key[0], f"{path.name}:{i + 1}")
            else:
                public.add(key[0])
    for _, text in _text_files(allowed):
        public.update(k[0] for k in map(_line_key, text.splitlines()) if k is not None)
    return {line: where for line, where in inside.items() if line not in public}


def _text_files(roots: Iterable[Path]) -> Iterator[tuple[Path, str]]:
    """``(path, text)`` of every text file under ``roots`` (files or folders); no ``.git``."""
    for root in roots:
        root = Path(root)
        paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in paths:
            if ".git" in path.relative_to(root).parts or path.is_symlink():
                continue
            if path.stat().st_size > MAX_TEXT_BYTES:
                continue
            raw = path.read_bytes()
            if b"\0" in raw:
                continue
            try:
                yield path, raw.decode("utf-8")
            except UnicodeDecodeError:
                continue


def _lines(rel: str, text: str) -> Iterator[tuple[str, str]]:
    """``(where, line)`` of every line a scan reads: a notebook's by cell, others by line."""
    if rel.endswith(".ipynb"):
        try:
            cells = json.loads(text)["cells"]
        except (ValueError, KeyError, TypeError):
            cells = None  # not a notebook after all: read it as text
        if isinstance(cells, list):
            for c, cell in enumerate(cells, start=1):
                source = cell.get("source", "") if isinstance(cell, dict) else ""
                source = "".join(source) if isinstance(source, list) else str(source)
                for number, line in enumerate(source.splitlines(), start=1):
                    yield f"{rel}: cell {c} line {number}", line
            return
    for number, line in enumerate(text.splitlines(), start=1):
        yield f"{rel}:{number}", line


def scan(out_dir: Path, solutions: Path = SOLUTIONS_DIR, allowed: Iterable[Path] = ()) -> list[str]:
    """Every line under ``out_dir`` that gives a solution away (empty: clean).

    ``allowed``: kit files whose lines are public for this scan (the grading code
    that a bundle is meant to carry). See the module docstring for the rule.
    """
    out_dir = Path(out_dir)
    secret = solution_lines(solutions, allowed)
    markers = {stubs.BEGIN, stubs.END}
    leaks = []
    for path, text in _text_files([out_dir]):
        for where, line in _lines(path.relative_to(out_dir).as_posix(), text):
            if line.strip() in markers:
                leaks.append(f"{where}: a solution marker line ({line.strip()!r})")
                continue
            key = _line_key(line)
            if key is not None and key[0] in secret:
                leaks.append(
                    f"{where}: the solution line of solutions/{secret[key[0]]}: "
                    f"{line.strip()[:80]!r}"
                )
    return leaks
