"""Report formats, each built from the results document (DESIGN.md's schema).

- :mod:`.gradescope_results`: Gradescope autograder ``results.json``, one submission;
- :mod:`.junit`: JUnit XML of every submission (CI test-report viewers);
- :mod:`.csv_report`: one CSV row per submission, a column per step;
- :mod:`.gradebook`: a Canvas or Moodle roster with each total, for their gradebook import;
- :mod:`.classroom_results`: GitHub Classroom autograding / Exercism v3 JSON, one submission;
- :mod:`.common`: what they share (the message limit, score text, steps in order).

Each module's ``report(document, ...)`` is a pure function returning a ``dict`` (to
dump as JSON) or a ``str``; writing files is the caller's job. Only the grader's
messages cross into a report, never hidden-test source or expected values, and each
message is cut to ``common.MESSAGE_LIMIT`` characters.
"""
