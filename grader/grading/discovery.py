"""Which submissions a path holds, and which file is each submission's step file.

A path given to ``grade`` is one of:

- a ``.zip``: one submission (its step files at any depth);
- one submission's folder: step files in it, or a git clone (``.git``), or a
  folder with ``exercises/`` (the student release's layout);
- a class: a folder of submission folders and zips (one each), of Moodle's
  ``Full Name_123_assignsubmission_file_`` folders, or a Canvas bulk download (a
  flat folder of ``name_userid_submissionid_file`` files, grouped per student).

In a submission, step files count at any depth: the shallowest file of each name;
hidden, packaging and cache folders are skipped; a renamed copy
(``step03_normalization (1).py``, ``step03_normalization-2.py``) is taken when it is
the only candidate; zips in the folder fill in the steps not found loose. Each
choice that is not plain becomes a note for the instructor. Nothing but step files
is read, never through a symbolic link, never more than MAX_STEP_FILE bytes.
"""

from __future__ import annotations

import os
import re
import stat
import sys
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..steps import MAX_STEP_FILE, STEPS
from ..submission.files import read_file
from .results import printable

STEP_FILES = {f"{step}.py" for step in STEPS}
# Folders that are never a student's work: tools, packaging, caches, the kit's data.
SKIP_DIRS = {
    "__pycache__",
    "__MACOSX",
    "node_modules",
    "venv",
    "build",
    "dist",
    "data_cache",
    "site-packages",
}
# A browser's or an LMS's renamed copy: "name (1).py", "name-2.py", "name copy.py".
_RENAMED = re.compile(r"^(step\d\d_\w+?)(?: ?\(\d+\)|-\d+| copy(?: \d+)?)\.py$")
# Canvas: "doejane_12345_678901_step03_normalization.py" (late: "doejane_LATE_12345_...").
_CANVAS = re.compile(r"^(?P<name>[^_]+)_(?:LATE_)?(?P<uid>\d+)_(?P<sub>\d+)_(?P<file>.+)$")
# Moodle: a folder "Jane Doe_123_assignsubmission_file_" per student.
_MOODLE = re.compile(r"^(?P<name>.+)_(?P<uid>\d+)_assignsubmission_file_?$")
# What reading a hostile or broken zip raises: an encrypted member (RuntimeError), an
# unsupported compression (NotImplementedError), corrupt data (zlib.error, BadZipFile).
ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    OSError,
    EOFError,
    RuntimeError,
    NotImplementedError,
    ValueError,
    zlib.error,
)
# Moodle's other submission plugins (online text, comments): never step files.
_MOODLE_OTHER = re.compile(r"_\d+_assignsubmission_(?!file)[a-z]+_?$")

# Folders below a submission's root that are searched: deeper ones are skipped with a
# note (Python's os.walk recurses once per level, so a deep enough tree raised out of
# the whole batch).
MAX_DEPTH = 40

LOOKED_FOR = (
    "step files named stepNN_*.py (like step03_normalization.py), a folder of them "
    "(at any depth), a .zip of them, or a folder of such submissions"
)
# Why a submission scores 0 without being run (every test's message says it).
NO_STEP_FILES = "stepNN_*.py files (like step03_normalization.py) at any depth or in a .zip"


class NoSubmission(ValueError):
    """A path given to ``grade`` holds no submission at all (a usage error)."""


@dataclass(frozen=True)
class Submission:
    name: str  # printable: shown on the terminal and in every report
    path: Path  # a directory of step files (found deeper or in zips: copied to scratch)
    origin: str  # the directory or zip it came from, absolute: its "path" in the results
    problem: str | None = None  # why it cannot be graded at all (a bad zip, no step file)
    notes: tuple[str, ...] = ()  # choices the instructor should know about (printable)
    student_id: str | None = None  # the LMS's id of the student (Canvas user id, Moodle's)


@dataclass
class _Choice:
    """The step files chosen in one tree: step file name -> relative path, and notes."""

    files: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def skipped_dir(name: str) -> bool:
    """A folder that is never searched: hidden (.git, .github), packaging or cache."""
    return (
        name.startswith(".")
        or name in SKIP_DIRS
        or name.endswith(".egg-info")
        or name.lower() in {"venv", "env"}
    )


def step_name(file_name: str) -> tuple[str, bool] | None:
    """``(step file name, renamed)`` for a step file or a renamed copy of one, else None."""
    if file_name in STEP_FILES:
        return file_name, False
    match = _RENAMED.match(file_name)
    if match and f"{match.group(1)}.py" in STEP_FILES:
        return f"{match.group(1)}.py", True
    return None


def choose(paths: list[str]) -> _Choice:
    """Pick each step's file among ``paths`` (relative, ``/``-separated, in no skipped
    folder): the shallowest exact name (the first in path order when two are equally
    shallow, with a note), else the one renamed copy at the shallowest depth."""
    exact: dict[str, list[str]] = {}
    renamed: dict[str, list[str]] = {}
    for path in sorted(paths):
        found = step_name(PurePosixPath(path).name)
        if found:
            (renamed if found[1] else exact).setdefault(found[0], []).append(path)
    choice = _Choice()
    for name in sorted(set(exact) | set(renamed)):
        candidates = exact.get(name) or renamed[name]
        depth = min(p.count("/") for p in candidates)
        best = [p for p in candidates if p.count("/") == depth]
        if name in exact:
            choice.files[name] = best[0]
            if len(best) > 1:
                choice.notes.append(
                    f"{name}: {len(best)} copies at the same depth, graded {best[0]}, "
                    f"not {', '.join(best[1:])}"
                )
            if name in renamed:
                choice.notes.append(
                    f"{name}: the renamed copy {renamed[name][0]} was not graded ({best[0]} was)"
                )
        elif len(best) == 1:
            choice.files[name] = best[0]
            choice.notes.append(f"{name}: graded the renamed copy {best[0]}")
        else:
            choice.notes.append(
                f"{name}: not graded: {len(best)} renamed copies compete "
                f"({', '.join(best)}); keep one, named {name}"
            )
    return choice


def _walk(root: Path) -> tuple[list[str], list[Path], list[str]]:
    """The step-file candidates (relative paths), the zips and the notes of a folder."""
    candidates, zips, notes = [], [], []
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not skipped_dir(d))
        here = Path(folder)
        if dirs and len(here.relative_to(root).parts) >= MAX_DEPTH:
            where = here.relative_to(root).as_posix()
            notes.append(f"{where[:60]}...: more than {MAX_DEPTH} folders deep, not searched")
            dirs[:] = []
        for name in sorted(files):
            path = here / name
            rel = path.relative_to(root).as_posix()
            interesting = step_name(name) or name.lower().endswith(".zip")
            if not interesting:
                continue
            if path.is_symlink():  # could point at any file the grader can read
                notes.append(f"{rel} is a symbolic link: not graded")
            elif name.lower().endswith(".zip"):
                if path.is_file():  # not a FIFO: opening one waits for a writer, forever
                    zips.append(path)
            else:
                candidates.append(rel)
        for name in dirs:
            if (here / name).is_symlink():
                notes.append(f"{(here / name).relative_to(root).as_posix()}/ is a link: skipped")
    return candidates, zips, notes


def _zip_members(zf: zipfile.ZipFile) -> tuple[dict[str, zipfile.ZipInfo], list[str]]:
    """The members of a zip that may be step files, by ``/``-path, and notes."""
    members: dict[str, zipfile.ZipInfo] = {}
    notes: list[str] = []
    for info in zf.infolist():
        path = info.filename.replace("\\", "/").strip("/")
        parts = path.split("/")
        if info.is_dir() or any(skipped_dir(p) for p in parts[:-1]) or ".." in parts:
            continue
        if parts[-1].lower().endswith(".zip"):
            notes.append(f"{path}: a zip inside a zip is not opened")
            continue
        if not step_name(parts[-1]):
            continue
        if stat.S_ISLNK(info.external_attr >> 16):
            notes.append(f"{path} is a symbolic link: not graded")
        elif info.file_size > MAX_STEP_FILE:
            notes.append(f"{path} is larger than {MAX_STEP_FILE} bytes: not graded")
        else:
            members[path] = info
    return members, notes


def extract_zip(archive: Path, into: Path, notes: list[str] | None = None) -> Path:
    """Extract only the step files of a zip (see :func:`choose`) into ``into``, under
    their own names (nothing else of the zip's paths is used); notes go to ``notes``."""
    into.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive) as zf:
        members, found = _zip_members(zf)
        choice = choose(list(members))
        for name, path in choice.files.items():
            try:
                with zf.open(members[path]) as member:  # at most the cap, whatever it says
                    content = member.read(MAX_STEP_FILE + 1)[:MAX_STEP_FILE]
            except ZIP_ERRORS as exc:  # one student's broken zip never stops the class
                found.append(f"{path} cannot be extracted ({exc}): not graded")
                continue
            (into / name).write_bytes(content)
    if notes is not None:
        notes += found + choice.notes
    return into


def _gather(root: Path, into: Path) -> tuple[Path, list[str]]:
    """The step files of the folder ``root`` as a directory to grade, and notes.

    ``root`` itself when its step files are all at its top under their own names;
    else a copy in ``into`` of each chosen file, zips filling in the steps not found.
    """
    candidates, zips, notes = _walk(root)
    choice = choose(candidates)
    notes += choice.notes
    if not zips and all(rel in STEP_FILES for rel in choice.files.values()):
        return root, notes
    into.mkdir(parents=True)
    for name, rel in choice.files.items():
        content = read_file(root / PurePosixPath(rel).parent, PurePosixPath(rel).name)
        if isinstance(content, bytes):
            (into / name).write_bytes(content)
        else:
            notes.append(content)
    for archive in sorted(zips, key=lambda p: (len(p.relative_to(root).parts), str(p))):
        rel = archive.relative_to(root).as_posix()
        unpacked = into.with_name(into.name + "-zip")
        zip_notes: list[str] = []
        try:
            extract_zip(archive, unpacked, zip_notes)
        except ZIP_ERRORS as exc:
            notes.append(f"{rel} could not be read as a zip ({exc})")
            continue
        notes += [f"{rel}: {note}" for note in zip_notes]
        for path in sorted(unpacked.iterdir()):
            if not (into / path.name).exists():
                path.rename(into / path.name)
                notes.append(f"{path.name}: taken from {rel}")
            else:
                path.unlink()
        unpacked.rmdir()
    return into, notes


def _has_steps(folder: Path) -> bool:
    """Whether ``folder`` holds a step file (or a renamed copy) at its top."""
    return any(step_name(p.name) for p in folder.iterdir() if p.is_file())


def _holds_steps(path: Path) -> bool:
    """Whether a folder holds a step file or a zip at any depth (a zip: whether it is one)."""
    if path.is_file():
        return path.suffix.lower() == ".zip"
    candidates, zips, _ = _walk(path)
    return bool(candidates or zips)


def _children(folder: Path) -> list[Path]:
    """The subfolders and zips of a folder that may be submissions, in name order."""
    return sorted(
        p
        for p in folder.iterdir()
        if not p.is_symlink()
        and not _MOODLE_OTHER.search(p.name)
        and (
            (p.is_dir() and not skipped_dir(p.name)) or (p.suffix.lower() == ".zip" and p.is_file())
        )
    )


def is_one_submission(folder: Path) -> bool:
    """A submission's own folder, not a class.

    It is one when it has step files at its top or in ``exercises/`` (the student
    release's layout), or when it is a git clone or only one of its subfolders holds
    step files, unless that subfolder looks like a submission itself (step files at
    its top, ``exercises/``, a clone, a Moodle folder, a zip).
    """
    if _has_steps(folder) or ((folder / "exercises").is_dir() and _has_steps(folder / "exercises")):
        return True
    holding = [child for child in _children(folder) if _holds_steps(child)]
    if not holding:
        return False

    def own(child: Path) -> bool:
        return (
            child.is_file()
            or _MOODLE.match(child.name) is not None
            or _has_steps(child)
            or (child / "exercises").is_dir()
            or (child / ".git").exists()
        )

    if (folder / ".git").exists():
        return not any(own(child) for child in holding)  # else a class kept in git
    return len(holding) == 1 and not own(holding[0])


def lms_name(folder_name: str) -> tuple[str, str | None]:
    """The student's name and id in a Moodle folder name, else the name itself."""
    match = _MOODLE.match(folder_name)
    return (match["name"], match["uid"]) if match else (folder_name, None)


def _has_step_files(folder: Path) -> bool:
    return any(p.name in STEP_FILES for p in folder.iterdir())


class _Finder:
    """Collects submissions; each one's copied step files go to a fresh scratch folder."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.found: list[Submission] = []

    def _slot(self) -> Path:
        return self.scratch / f"{len(self.found):05d}"

    def zip(self, path: Path, name: str, student_id: str | None = None) -> None:
        notes: list[str] = []
        target = self._slot()
        problem = None
        try:
            extract_zip(path, target, notes)
        except ZIP_ERRORS as exc:
            target.mkdir(parents=True, exist_ok=True)
            problem = f"{path.name} could not be read as a zip ({exc}); nothing was graded"
        if problem is None and not _has_step_files(target):
            problem = f"no step files in {path.name}: {NO_STEP_FILES}"
        self._add(name, target, str(path), problem, notes, student_id)

    def folder(
        self,
        path: Path,
        name: str,
        student_id: str | None = None,
        origin: Path | None = None,
        notes: tuple[str, ...] = (),
    ) -> None:
        where, found = _gather(path, self._slot())
        # Nothing to run: every test scores 0 with this reason, without a grading child.
        problem = None if _has_step_files(where) else f"no step files found: {NO_STEP_FILES}"
        self._add(name, where, str(origin or path), problem, [*notes, *found], student_id)

    def _add(
        self,
        name: str,
        path: Path,
        origin: str,
        problem: str | None,
        notes: list[str],
        student_id: str | None,
    ) -> None:
        self.found.append(
            Submission(
                printable(name),
                path,
                origin,
                problem,
                tuple(printable(n) for n in notes),
                None if student_id is None else printable(student_id),
            )
        )

    def canvas(self, folder: Path, files: dict[tuple[str, str], list[Path]]) -> None:
        """One submission per student of a Canvas bulk download: their files under the
        names they uploaded (``doejane_12_34_step03_normalization.py`` -> ``step03...``)."""
        for (name, uid), paths in sorted(files.items()):
            originals = self.scratch / f"canvas-{len(self.found):05d}"
            originals.mkdir(parents=True)
            notes = []
            for path in sorted(paths):
                original = _CANVAS.match(path.name)["file"]  # type: ignore[index]
                content = read_file(folder, path.name)
                if isinstance(content, str):
                    notes.append(content)
                elif not (originals / original).exists():
                    (originals / original).write_bytes(content)
            self.folder(originals, name, uid, folder / f"{name}_{uid}", tuple(notes))


def _canvas_files(folder: Path) -> dict[tuple[str, str], list[Path]]:
    """The files of a Canvas bulk download in ``folder``, by (name, user id)."""
    groups: dict[tuple[str, str], list[Path]] = {}
    for path in sorted(folder.iterdir()):
        match = _CANVAS.match(path.name)
        if not match or path.is_symlink() or not path.is_file():
            continue
        original = match["file"]
        if step_name(original) or original.lower().endswith(".zip"):
            groups.setdefault((match["name"], match["uid"]), []).append(path)
    return groups


def discover(paths: list[Path], scratch: Path) -> list[Submission]:
    """The submissions in ``paths``, in order, with unique names.

    Raises NoSubmission for a path that holds none (see LOOKED_FOR).
    """
    finder = _Finder(scratch)
    for given in paths:
        path = given.resolve()
        before = len(finder.found)
        if path.is_file() and path.suffix.lower() == ".zip":
            name, uid = lms_name(path.stem)
            finder.zip(path, name, uid)
        elif path.is_dir() and is_one_submission(path):
            name, uid = lms_name(path.name)
            finder.folder(path, name, uid)
        elif path.is_dir():
            _class(finder, path)
        if len(finder.found) == before:
            where = printable(str(given))
            raise NoSubmission(f"{where} holds no submission: looked for {LOOKED_FOR}")
    # A second "jane" becomes "jane~2", unless a folder is named "jane~2" (then "jane~3").
    taken = {sub.name for sub in finder.found}
    assigned: set[str] = set()
    unique = []
    for sub in finder.found:
        name, count = sub.name, 1
        while name in assigned or (count > 1 and name in taken):
            count += 1
            name = f"{sub.name}~{count}"
        assigned.add(name)
        unique.append(
            sub
            if name == sub.name
            else Submission(name, sub.path, sub.origin, sub.problem, sub.notes, sub.student_id)
        )
    return unique


def _class(finder: _Finder, folder: Path) -> None:
    """The submissions of a class folder: a Canvas download's students, then one per
    subfolder or zip; none at all when no subfolder holds a step file."""
    links = sorted(printable(p.name) for p in folder.iterdir() if p.is_symlink())
    if links:  # a link in a class folder could point at any folder the grader reads
        print(
            f"warning: {printable(str(folder))}: symbolic links are not graded: {', '.join(links)}",
            file=sys.stderr,
        )
    canvas = _canvas_files(folder)
    taken = {p for paths in canvas.values() for p in paths}
    finder.canvas(folder, canvas)
    children = [p for p in _children(folder) if p not in taken]
    if not canvas and not any(_holds_steps(child) for child in children):
        return  # no submission here: a usage error
    for child in children:
        name, uid = lms_name(child.stem if child.is_file() else child.name)
        if child.is_file():
            finder.zip(child, name, uid)
        else:
            finder.folder(child, name, uid)
