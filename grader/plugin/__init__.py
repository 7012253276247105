"""The kit's pytest plugin: options, steps and points, the submission fixture, verdicts.

Loaded by the kit's own test run from the root ``conftest.py``, and by the
grader's child pytest explicitly with ``-p grader.plugin --noconftest``, so no
``conftest.py`` of a submission or of the folders around it is ever imported.
Each part below is a plugin module of its own (pytest registers them from
``pytest_plugins``):

- :mod:`.options`: the command-line options and the per-run set-up;
- :mod:`.collection`: step markers, points and timeouts of hidden tests, the inventory;
- :mod:`.fixtures`: ``submission``, ``device`` and the seeds;
- :mod:`.verdicts`: one-line verdicts and the results file;
- :mod:`.serve`: a long-lived run that grades submission after submission, a fork each;
- :mod:`.artifacts`: ``keep_artifact``, numbers kept for the HTML report.
"""

pytest_plugins = [
    "grader.plugin.options",
    "grader.plugin.collection",
    "grader.plugin.fixtures",
    "grader.plugin.verdicts",
    "grader.plugin.serve",
    "grader.plugin.artifacts",
]
