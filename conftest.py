"""Root pytest configuration of the kit's own test run: load the kit's plugin.

The plugin declares its own options (``grader/plugin/``). The grader's child
pytest does not read this file: it loads the plugin with ``-p grader.plugin`` and
runs with ``--noconftest``.
"""

pytest_plugins = ["grader.plugin"]
