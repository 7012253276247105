"""``keep_artifact``: the fixture hidden tests keep numbers with, for the HTML report.

What may be kept, and the limits, are in :mod:`grader.grading.artifacts`; this plugin
only collects each test's artifacts (with ``--grader-artifacts``) for its results line.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from ..grading.artifacts import MAX_TEST_BYTES, convert

_KEPT = pytest.StashKey[list[dict[str, Any]]]()


class Keeper:
    """The ``keep_artifact`` fixture's value: ``keep_artifact(name, kind, data)``."""

    def __init__(self, item: pytest.Item, active: bool):
        self.item, self.active = item, active

    def __call__(self, name: str, kind: str, data: Any) -> None:
        if not self.active:
            return
        kept = self.item.stash.setdefault(_KEPT, [])
        size = sum(len(json.dumps(a)) for a in kept)
        for artifact in convert(name, kind, data):
            size += len(json.dumps(artifact))
            if size > MAX_TEST_BYTES:
                artifact = {
                    "name": artifact["name"],
                    "kind": "note",
                    "data": "not shown: too large",
                }
            kept.append(artifact)


@pytest.fixture
def keep_artifact(request: pytest.FixtureRequest) -> Keeper:
    """Keep numbers from the student's code for the HTML report: ``keep_artifact(name,
    kind, data)`` (kinds in :mod:`grader.plugin.artifacts`); does nothing unless the run
    was started with ``--grader-artifacts``."""
    return Keeper(request.node, bool(request.config.getoption("grader_artifacts", False)))


def kept(item: pytest.Item) -> list[dict[str, Any]]:
    """The artifacts ``item`` kept so far (none without ``--grader-artifacts``)."""
    return item.stash.get(_KEPT, [])
