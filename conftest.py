"""Root pytest configuration of the kit's own test run: load the kit's plugin.

The plugin declares its own options (``grader/pytest_plugin.py``). The grader's
child pytest does not read this file: it loads the plugin with ``-p`` and runs
with ``--noconftest``.
"""

pytest_plugins = ["grader.pytest_plugin"]
