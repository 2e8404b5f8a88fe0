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

No work nobody uses: ``needs_input_grad`` says whether anything will use dL/dx. It is True by
default (a gradient check needs dx); the first layer of a network being trained receives the
data, whose gradient nobody wants, so the trainer turns it off (``set_needs_input_grad(False)``
on the network, which passes it to its first layer). ``Layer.backward`` honours it for every
layer built on ``backward_params`` and ``backward_input``: it fills the parameter gradients,
then computes dL/dx only when it is needed and returns None otherwise, as PyTorch computes no
gradient for a tensor that does not require one.

Layers with weights take ``init=``, an :data:`Initializer`, defaulting to
:func:`lecun_default`.

This module is infrastructure: it is given, not an exercise.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

Initializer = Callable[[tuple[int, ...], np.random.Generator, npt.DTypeLike], np.ndarray]
"""``init(shape, rng, dtype) -> array``: the type of every layer's ``init=`` argument."""


def lecun_default(
    shape: tuple[int, ...], rng: np.random.Generator, dtype: npt.DTypeLike = np.float32
) -> np.ndarray:
    """LeCun normal, the default ``init`` of every layer with weights: ``N(0, 1 / fan_in)``.

    ``fan_in`` is what one output sums over: ``shape[0]`` for dense weights
    ``(in_features, out_features)``, ``C * kh * kw`` for a filter bank ``(O, C, kh, kw)``.
    With unit-variance inputs, each output then has a variance of about 1. (The ``init``
    exercise derives this and its cousins; this copy is given so that no layer depends on a
    later exercise.)
    """
    fan_in = shape[0] if len(shape) == 2 else int(np.prod(shape[1:]))
    weights: np.ndarray = (rng.standard_normal(shape) * np.sqrt(1.0 / fan_in)).astype(dtype)
    return weights


class Layer:
    """Base class of every layer: named parameters, their gradients and the training flag.

    The three are properties over storage the base class owns, the same for every layer:

    Attributes:
        params: name -> parameter array (empty for layers without parameters). A layer fills
            its own dictionary (``self.params["W"] = weight``); read-only as a whole.
        grads: name -> gradient array, filled by ``backward`` (``self.grads["W"] = ...``);
            same keys, shapes and dtypes as ``params``.
        training: True in training mode (the default), False in evaluation mode; changed only
            by ``train()`` and ``eval()``, so that a container can pass the change on.
        needs_input_grad: True (the default) when ``backward`` must return dL/dx; False when
            nothing uses it (the layer's input is the data): ``backward`` then returns None
            without computing it. Changed only by ``set_needs_input_grad()``.

    A container (``Sequential``) overrides ``params`` and ``grads`` with properties that name
    its layers' arrays ``"<index>.<name>"`` (``"0.W"``, and ``"1.0.b"`` for a container inside
    a container), and ``train()`` / ``eval()`` to reach every layer inside, nested ones too.
    Its dictionaries are built on each access: update their arrays in place (as optimizers
    do); to replace an array, assign it in the layer that owns it.
    """

    def __init__(self) -> None:
        self._params: dict[str, np.ndarray] = {}
        self._grads: dict[str, np.ndarray] = {}
        self._training = True
        self._needs_input_grad = True

    @property
    def params(self) -> dict[str, np.ndarray]:
        """Name -> parameter array: this layer's own dictionary."""
        return self._params

    @property
    def grads(self) -> dict[str, np.ndarray]:
        """Name -> gradient array, filled by ``backward``: this layer's own dictionary."""
        return self._grads

    @property
    def training(self) -> bool:
        """True in training mode, False in evaluation mode (set by ``train()``, ``eval()``)."""
        return self._training

    @property
    def needs_input_grad(self) -> bool:
        """True (the default) when ``backward`` must return dL/dx, False when nothing uses it."""
        return self._needs_input_grad

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Compute the output for the input ``x`` and keep what ``backward`` needs."""
        raise NotImplementedError(f"{type(self).__name__}.forward is not written")

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        """Given dL/d(out), fill ``self.grads`` and return dL/dx (the shape of ``x``), or None.

        The one place the rule of ``needs_input_grad`` lives: ``backward_params(dout)`` fills
        the parameter gradients, then ``backward_input(dout)`` computes dL/dx only when it is
        needed. A layer writes those two (a layer without parameters only the second), or
        overrides ``backward`` whole.
        """
        self.backward_params(dout)
        return self.backward_input(dout) if self.needs_input_grad else None

    def backward_params(self, dout: np.ndarray) -> None:
        """Given dL/d(out), set ``self.grads[name]`` for every parameter (none here)."""

    def backward_input(self, dout: np.ndarray) -> np.ndarray:
        """Given dL/d(out), return dL/dx (the shape of ``x``)."""
        raise NotImplementedError(f"{type(self).__name__}.backward is not written")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def train(self) -> Layer:
        """Switch to training mode; returns the layer so calls can be chained."""
        self._training = True
        return self

    def eval(self) -> Layer:
        """Switch to evaluation mode; returns the layer so calls can be chained."""
        self._training = False
        return self

    def set_needs_input_grad(self, needed: bool) -> Layer:
        """Say whether ``backward`` must compute dL/dx; returns the layer (chained calls)."""
        self._needs_input_grad = bool(needed)
        return self

    def __repr__(self) -> str:
        shapes = ", ".join(f"{name}={value.shape}" for name, value in self.params.items())
        return f"{type(self).__name__}({shapes})"
