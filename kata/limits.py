"""The time limits of the tests, and what a learner reads when one is reached.

Apart from the pytest plugin (:mod:`kata.pytest_plugin`), so that the grader, which only reads
them, starts without importing pytest, hypothesis or numpy: a grade in watch mode costs its
tests, not the imports.
"""

from __future__ import annotations

STATE_DIRECTORY = ".kata"

COMPONENT, CAPSTONE, TOOLING = "component", "capstone", "tooling"
TIME_LIMITS = {
    COMPONENT: 60.0,  # one test of an exercise: its gradient checks take about a second
    CAPSTONE: 1800.0,  # training on MNIST: the speed guard allows 15 x the reference's 90 s
    TOOLING: 900.0,  # the kata's own tests, some of which run the grader
}


def hard_limit(limit: float) -> float:
    """When a test still running ``limit`` seconds in is ended with its process."""
    return limit + max(5.0, 0.1 * limit)


def timeout_message(limit: float, where: str, scale: float = 1.0) -> str:
    """What a learner reads about a test stopped at its time limit."""
    scaled = f" ({limit / scale:g} s scaled by {scale:g})" if scale != 1.0 else ""
    return (
        f"time limit: the test did not finish within {limit:g} s{scaled}; it was stopped in "
        f"{where}.\n"
        "Code that never returns (a loop whose condition never changes) or runs far too "
        "slowly (a Python loop over every element) is stopped there. The other tests of "
        "this exercise are not run."
    )
