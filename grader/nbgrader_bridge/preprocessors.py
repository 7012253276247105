"""nbgrader's ``generate_assignment`` with the kit's stubs (the course's config selects it).

nbgrader replaces every solution region with one ``ClearSolutions.code_stub`` for
the whole course (by default ``raise NotImplementedError()``). The kit's stub
names the step and the function, as the ``.py`` exercises do
(``raise NotImplementedError("step 03: softmax is not implemented yet")``): the
course's config sets ``code_stub`` to that template (``{step}``, ``{function}``)
and :class:`KitClearSolutions` fills it in per region from the cell's ``kit``
metadata (``todo``: ``[step, function]`` per region, written by the build).
"""

from __future__ import annotations

from typing import Any

from nbgrader.converters import GenerateAssignment
from nbgrader.preprocessors import ClearSolutions

DEFAULT_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"


class KitClearSolutions(ClearSolutions):  # type: ignore[misc]  # nbgrader has no types
    """``ClearSolutions`` whose code stub is formatted with each region's step and function."""

    def _replace_solution_region(self, cell: Any, language: str) -> bool:
        if cell.cell_type != "code":
            return bool(super()._replace_solution_region(cell, language))
        todo = list(cell.metadata.get("kit", {}).get("todo", []))
        out: list[str] = []
        inside = replaced = False
        for line in cell.source.split("\n"):
            if self.begin_solution_delimeter in line:
                if inside:
                    raise RuntimeError(f"nested solution regions in:\n{cell.source}")
                if todo:
                    step, function = todo.pop(0)
                    stub = self.code_stub[language].format(step=step, function=function)
                else:  # a region the kit did not write (an instructor's own): nbgrader's stub
                    stub = DEFAULT_STUB
                indent = line[: len(line) - len(line.lstrip())]
                out.extend(indent + s for s in stub.split("\n"))
                inside = replaced = True
            elif self.end_solution_delimeter in line:
                inside = False
            elif not inside:
                out.append(line)
        if inside:
            raise RuntimeError(f"no end solution statement found in:\n{cell.source}")
        cell.source = "\n".join(out)
        return replaced


def generate_assignment_preprocessors() -> list[type]:
    """nbgrader's own list for ``generate_assignment``, with the kit's ``ClearSolutions``."""
    default = GenerateAssignment.class_traits()["preprocessors"].default()
    return [KitClearSolutions if p is ClearSolutions else p for p in default]
