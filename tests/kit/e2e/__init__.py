"""End-to-end tests: whole submissions graded through the real path (child pytest processes,
sandboxes, the command line, nbgrader); minutes in all (``tox -e e2e``)."""
