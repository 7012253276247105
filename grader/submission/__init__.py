"""The submission under test: one protocol (:mod:`.protocol`), two implementations.

- :mod:`.files`: reading and staging a submission's step files (never a link).
- :mod:`.direct`: the step modules imported in the test's process.
- :mod:`.sandboxed`: the step code runs in a sandboxed worker (:mod:`grader.sandbox`).
- :mod:`.timeouts`: a submission that timed out stays refused for that test.
"""
