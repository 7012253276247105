"""What hidden tests import: checks, the kit's operations and models, figures as data.

See README.md beside this file (and docs/authoring.md) for how to write a hidden test.
"""
