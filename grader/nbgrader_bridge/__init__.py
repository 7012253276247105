"""The nbgrader route: the kit's steps as an nbgrader course, graded by nbgrader itself.

- :mod:`.build` writes a course (``python -m grader nbgrader build COURSE``): one
  assignment, ``mnist_kit``, with one notebook per step, generated from
  ``solutions/``, the visible tests and the hidden suites.
- :mod:`.grade` runs the real nbgrader pipeline on submissions (directories of
  step files or notebooks) and writes the kit's results document.
- :mod:`.inkernel` is what the hidden grade cells call: it runs one hidden pytest
  test in the notebook's kernel, with the notebook's code cells as the step module.
- :mod:`.kit_notebook` ships next to the notebooks (like ``mnist.py``): it lets
  step notebooks import each other and runs the visible tests in a notebook.
"""

ASSIGNMENT = "mnist_kit"
COURSE_ID = "mnist-exercise-kit"
MANIFEST = "kit_nbgrader.json"
