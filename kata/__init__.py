"""Kata tooling: the curriculum manifest, the stub generator, the judge's checks, the grader.

Nothing in ``reference/`` imports this package: the library knows nothing about grading.
"""
