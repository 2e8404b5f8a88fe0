"""The committed exercises/, solutions/ and README table are what the generator writes."""

from __future__ import annotations

import pytest

from kata.curriculum import CURRICULUM
from kata.generate import REPOSITORY, GenerationError, differences, plan


def test_generated_files_are_up_to_date():
    try:
        stale = differences(REPOSITORY, plan(REPOSITORY, CURRICULUM))
    except GenerationError as error:
        stale = [f"the generator refuses reference/: {problem}" for problem in error.problems]
    if stale:
        pytest.fail(
            "generated files differ from reference/ (run `nox -s exercises`; a file you edited "
            "on purpose needs `-- --force`):\n" + "\n".join(stale),
            pytrace=False,
        )
