"""The contract every layer keeps: the base class of the library.

A layer is a small object with two methods::

    out = layer.forward(x)      # computes the output and keeps what backward needs
    dx = layer.backward(dout)   # dout = dL/d(out), same shape as out; returns dL/dx

``backward`` also fills ``layer.grads``: one array per entry of ``layer.params``, with the same
name, shape and dtype (``grads["W"]`` is dL/dW). Parameters and gradients are plain numpy arrays
in dictionaries, so an optimizer can update any model by name, and a container (``Sequential``)
can expose the parameters of all its layers under dotted names (``"0.W"``, ``"2.b"``).

Optimizers update ``params`` *in place* (``param -= lr * grad``): a layer must read its
parameters from ``self.params`` on every call, never from a copy taken at construction.

Training mode and evaluation mode are explicit: ``train()`` and ``eval()`` set ``training``,
which only layers such as dropout look at.

This module is infrastructure: it is given, not an exercise.
"""

from __future__ import annotations

import numpy as np


class Layer:
    """Base class of every layer: named parameters, their gradients and the training flag.

    Attributes:
        params: name -> parameter array (empty for layers without parameters).
        grads: name -> gradient array, filled by ``backward``; same keys, shapes and dtypes
            as ``params``.
        training: True in training mode (the default), False in evaluation mode.
    """

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.training: bool = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Compute the output for the input ``x`` and keep what ``backward`` needs."""
        raise NotImplementedError(f"{type(self).__name__}.forward is not written")

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Given dL/d(out), fill ``self.grads`` and return dL/dx (the shape of ``x``)."""
        raise NotImplementedError(f"{type(self).__name__}.backward is not written")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def train(self) -> Layer:
        """Switch to training mode; returns the layer so calls can be chained."""
        self.training = True
        return self

    def eval(self) -> Layer:
        """Switch to evaluation mode; returns the layer so calls can be chained."""
        self.training = False
        return self

    def __repr__(self) -> str:
        shapes = ", ".join(f"{name}={value.shape}" for name, value in self.params.items())
        return f"{type(self).__name__}({shapes})"
