"""Small submissions made on the fly for the kit's tests: the reference, edited or not."""

from pathlib import Path

KIT_ROOT = Path(__file__).resolve().parents[2]


def reference(step: str) -> str:
    """The text of the reference solution of ``step``."""
    return (KIT_ROOT / "solutions" / f"{step}.py").read_text()


def submission_with(root: Path, name: str, files: dict[str, str]) -> Path:
    """A submission directory ``root/name`` holding ``files`` (file name -> text)."""
    folder = root / name
    folder.mkdir()
    for file, text in files.items():
        (folder / file).write_text(text)
    return folder
