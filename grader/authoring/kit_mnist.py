"""The kit's ``mnist.py`` loaded into the grader's own process, for the hidden tests.

It is the same file every graded submission gets beside its steps; the hidden
tests use it for reference data (the real test set) without importing any
submission code: ``from grader.kit_mnist import mnist``.
"""

import importlib.util

from ..layout import kit_mnist

_spec = importlib.util.spec_from_file_location("grader._kit_mnist_module", kit_mnist())
assert _spec is not None and _spec.loader is not None  # a .py file always has a loader
mnist = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mnist)
