"""Grading: each submission in a child pytest, batches of them, the results document.

- :mod:`.runner`: one child pytest per submission (or one for a trusted batch).
- :mod:`.batch`: which submissions a path holds, progress, resuming a batch.
- :mod:`.results`: the results document (the source of every report) and its table.
"""
