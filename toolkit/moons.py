"""Two interleaved half-moons: the toy data set of the scalar-autograd capstone (``moons``).

The points of class 0 lie on the upper half of the unit circle, those of class 1 on a lower
half circle shifted right and down, so that each moon reaches into the other's hollow and no
straight line separates them::

    class 0:  (cos t, sin t)                t uniform in [0, pi]
    class 1:  (1 - cos t, 0.5 - sin t)      t uniform in [0, pi]

plus Gaussian noise of standard deviation ``noise`` on both coordinates (scikit-learn's
``make_moons`` draws the same curves). Everything comes from the generator given, so a seed
gives the same points.

This module is infrastructure: it is given, never stubbed.
"""

from __future__ import annotations

import numpy as np

from toolkit import checks

TRAIN_SEED = 0
TEST_SEED = 1
TRAIN_SIZE = 100
TEST_SIZE = 200
NOISE = 0.1


def make_moons(
    n: int, *, noise: float = NOISE, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points of the two moons, half of each class (class 0 gets the odd one).

    Returns:
        ``(x, y)``: ``x`` float64 of shape ``(n, 2)``, ``y`` int64 of shape ``(n,)`` in {0, 1},
        the classes interleaved in a random order.
    """
    checks.positive_int("n", n)
    checks.non_negative("noise", noise)
    n_upper = n - n // 2
    t = rng.uniform(0.0, np.pi, n)
    upper = np.stack([np.cos(t[:n_upper]), np.sin(t[:n_upper])], axis=1)
    lower = np.stack([1.0 - np.cos(t[n_upper:]), 0.5 - np.sin(t[n_upper:])], axis=1)
    x = np.concatenate([upper, lower]) + rng.normal(0.0, noise, (n, 2))
    y = np.concatenate([np.zeros(n_upper, dtype=np.int64), np.ones(n // 2, dtype=np.int64)])
    order = rng.permutation(n)
    return x[order], y[order]


def train_and_test() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The capstone's data: ``TRAIN_SIZE`` training and ``TEST_SIZE`` held-out test points,
    from the fixed seeds ``TRAIN_SEED`` and ``TEST_SEED``: ``(x_train, y_train, x_test,
    y_test)``."""
    x_train, y_train = make_moons(TRAIN_SIZE, rng=np.random.default_rng(TRAIN_SEED))
    x_test, y_test = make_moons(TEST_SIZE, rng=np.random.default_rng(TEST_SEED))
    return x_train, y_train, x_test, y_test
