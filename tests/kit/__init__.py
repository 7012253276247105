"""The kit's own tests: ``unit/`` (quick, no whole submission graded) and ``e2e/`` (real
gradings in child processes); the helpers and corpora beside them are shared by both."""
