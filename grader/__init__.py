"""The MNIST exercise kit's grader: stubs, hidden-suite grading, reports."""

__version__ = "0.1.0"
