"""Benchmarks of the reference library (``python -m benchmarks.bench``, ``nox -s bench``)."""
