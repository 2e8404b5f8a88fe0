"""The ``mnist`` fixture of the capstone tests: MNIST, loaded once per pytest run.

A test module that needs it loads this module as a plugin, ``pytest_plugins =
["tests.mnist_fixture"]``, rather than importing the fixture function: pytest makes a separate
fixture, with its own cache, of every module a fixture function is imported into, so the data
would be loaded once per module; registered as a plugin, it is one session fixture, shared by
every capstone file (the capstones only read the arrays).
"""

from __future__ import annotations

import pytest

from toolkit.data import Dataset, MNISTNotFoundError, load_dataset


@pytest.fixture(scope="session")
def mnist() -> Dataset:
    """MNIST normalized and split (``toolkit.data.load_dataset()``), from the cache after the
    first download; the tests that use it fail, saying why, when it cannot be loaded."""
    try:
        return load_dataset()
    except MNISTNotFoundError as error:
        pytest.fail(f"the capstones need MNIST, which could not be loaded:\n{error}", pytrace=False)
