"""Toy layers, written here and known to be right, for the tests that need layers to hold.

The network tests put them inside the learner's ``Sequential``, so that exercise does not depend
on the learner's ``Linear`` or ``Tanh``; the judge's own tests subclass them to plant one mistake
at a time. They never come from ``reference``: the code under test must not build its own test.

These are plain classes, not tests: they carry no exercise mark.
"""

from __future__ import annotations

import numpy as np

from toolkit.layer import Layer


class Affine(Layer):
    """``y = x @ W + b`` for x ``(N, n_in)``; W ``(n_in, n_out)``, b ``(n_out,)``, both random.

    Backward: ``dW = x.T @ dout``, ``db = dout.sum(axis=0)``, ``dx = dout @ W.T``.
    """

    def __init__(self, n_in: int, n_out: int, seed: int = 0) -> None:
        super().__init__()
        rng = np.random.default_rng(seed)
        self.params["W"] = rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)
        self.params["b"] = rng.standard_normal(n_out) * 0.1

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return x @ self.params["W"] + self.params["b"]

    def backward(self, dout: np.ndarray) -> np.ndarray:
        self.grads["W"] = self.x.T @ dout
        self.grads["b"] = dout.sum(axis=0)
        return dout @ self.params["W"].T

    def __repr__(self) -> str:
        n_in, n_out = self.params["W"].shape
        return f"{type(self).__name__}({n_in}, {n_out})"


class Tanh(Layer):
    """``y = tanh(x)``, elementwise; backward ``dx = dout * (1 - y**2)``."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * (1 - self.out**2)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
