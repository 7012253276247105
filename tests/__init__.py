"""The kit's tests: a package, so the kit's own tests import their helpers as ``tests.kit.*``.

``tests/hidden`` is deliberately no package: the grader collects it on its own.
"""
