"""Exercise ``activations``: ReLU, LeakyReLU, Sigmoid and Tanh as layers.

An activation applies one scalar function ``a`` to every element: ``out = a(x)``, same shape.
Its backward pass is the chain rule, element by element::

    dx = dout * a'(x)

so ``forward`` keeps what ``a'`` needs (the input, a mask, or the output itself) and
``backward`` multiplies. These layers have no parameters: ``params`` and ``grads`` stay empty.

The base class ``Layer`` (given, in ``toolkit/layer.py``, beside the rest of what the kata
gives you) provides the ``params`` and ``grads`` dictionaries, the ``training``
flag with ``train()`` and ``eval()``, and ``layer(x)`` as a shorthand for ``layer.forward(x)``.
Rules every layer of the kata keeps:

- the output and ``dx`` have the dtype of the input (float32 in, float32 out);
- the input is never modified (``x[x < 0] = 0`` would change the caller's array);
- the input may be a non-contiguous view (``x.T``, ``x[:, ::2]``);
- ``backward`` uses what the *last* ``forward`` call kept.
"""

from __future__ import annotations

import numpy as np

from toolkit import checks
from toolkit.layer import Layer


class ReLU(Layer):
    """The rectified linear unit: ``out = max(x, 0)``.

    Shapes: ``x`` and ``out`` of any shape, the same; ``dout`` and ``dx`` that shape too.

    Derivative: ``a'(x) = 1`` where ``x > 0``, else ``0``. At exactly ``x = 0`` ReLU has no
    derivative; this library takes ``0`` there (as PyTorch does). So::

        dx = dout * (x > 0)

    Usual mistakes: writing the result into ``x`` (``x[x < 0] = 0`` or ``np.maximum(x, 0,
    out=x)``) mutates the caller's array; computing the mask in ``backward`` from ``dout``
    instead of from the forward input.

    Hint: keep the boolean mask ``x > 0`` in ``forward``; ``dout * mask`` keeps dout's dtype.
    """

    def __init__(self) -> None:
        super().__init__()
        self.positive: np.ndarray  # forward keeps the mask x > 0 here

    def forward(self, x: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION
        self.positive = x > 0
        return np.maximum(x, 0)
        # END SOLUTION

    def backward(self, dout: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION
        return dout * self.positive
        # END SOLUTION


class LeakyReLU(Layer):
    """ReLU with a small slope below zero: ``out = x`` if ``x > 0`` else ``negative_slope * x``.

    Shapes: like ReLU, ``out``, ``dout`` and ``dx`` have the shape of ``x``.

    Derivative: ``a'(x) = 1`` where ``x > 0``, else ``negative_slope`` (``negative_slope`` at
    exactly 0, as PyTorch does)::

        dx = where(x > 0, dout, negative_slope * dout)

    Usual mistakes: the ones of ReLU, and forgetting the slope in backward (a ReLU gradient);
    ``dout * np.where(x > 0, 1.0, slope)`` multiplies by a float64 array, so a float32
    ``dout`` gives a float64 ``dx``.

    Hint: keep the mask ``x > 0``; ``np.where(mask, x, self.negative_slope * x)`` keeps the
    dtype of ``x`` (a Python float times a float32 array is float32).
    """

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = checks.fraction("negative_slope", negative_slope)
        self.positive: np.ndarray  # forward keeps the mask x > 0 here

    def forward(self, x: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION
        self.positive = x > 0
        return np.where(self.positive, x, self.negative_slope * x)
        # END SOLUTION

    def backward(self, dout: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION
        return np.where(self.positive, dout, self.negative_slope * dout)
        # END SOLUTION

    def __repr__(self) -> str:
        return f"LeakyReLU(negative_slope={self.negative_slope})"


class Sigmoid(Layer):
    """The logistic function: ``out = s(x) = 1 / (1 + exp(-x))``, in (0, 1).

    Shapes: ``out``, ``dout`` and ``dx`` have the shape of ``x``.

    Derivative: ``s'(x) = exp(-x) / (1 + exp(-x))² = s(x) (1 - s(x))``, so ``forward`` keeps
    its *output* and ``backward`` is ``dx = dout * out * (1 - out)``.

    Stability: ``exp(-x)`` overflows for ``x < -709`` in float64 (``x < -88`` in float32): the
    result ``1 / (1 + inf) = 0`` happens to be right, but numpy warns, and an overflow is a bug
    waiting to happen. Never exponentiate a positive number: with ``z = exp(-|x|)`` (in (0, 1])

        s(x) = 1 / (1 + z)   where x >= 0
        s(x) = z / (1 + z)   where x < 0     (multiply 1 / (1 + exp(-x)) by exp(x) / exp(x))

    Sigmoid(1000) is then exactly 1.0 and Sigmoid(-1000) exactly 0.0, without a warning.

    Usual mistakes: the naive formula (overflow warnings for large negative inputs);
    recomputing ``s`` in ``backward`` from ``dout``; ``np.exp`` on a float64 copy of a float32
    input (the output must stay float32).

    Hint: ``np.where(x >= 0, 1 / (1 + z), z / (1 + z))`` computes both branches safely.
    """

    def __init__(self) -> None:
        super().__init__()
        self.out: np.ndarray  # forward keeps its output s(x) here

    def forward(self, x: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION
        z = np.exp(-np.abs(x))
        denominator = 1 + z
        self.out = np.where(x >= 0, 1 / denominator, z / denominator)
        return self.out
        # END SOLUTION

    def backward(self, dout: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION
        return dout * self.out * (1 - self.out)
        # END SOLUTION


class Tanh(Layer):
    """The hyperbolic tangent: ``out = tanh(x) = (e^x - e^-x) / (e^x + e^-x)``, in (-1, 1).

    Shapes: ``out``, ``dout`` and ``dx`` have the shape of ``x``.

    Derivative: ``tanh'(x) = 1 - tanh(x)²``, so ``forward`` keeps its output and
    ``dx = dout * (1 - out**2)``.

    Usual mistakes: writing the formula with ``np.exp`` (overflow for ``|x| > 709``: ``np.tanh``
    is stable); ``dout * (1 - out)**2`` instead of ``dout * (1 - out**2)``.

    Hint: ``np.tanh``.
    """

    def __init__(self) -> None:
        super().__init__()
        self.out: np.ndarray  # forward keeps its output tanh(x) here

    def forward(self, x: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION
        self.out = np.tanh(x)
        return self.out
        # END SOLUTION

    def backward(self, dout: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION
        return dout * (1 - self.out**2)
        # END SOLUTION
