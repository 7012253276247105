"""Quick tests of the kit's parts (``tox -e kit``): no whole submission is graded here."""
