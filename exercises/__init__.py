# GENERATED FILE: written by `python -m grader stubs` from solutions/__init__.py.
# Do not edit it in exercises/: edit solutions/__init__.py and regenerate.
