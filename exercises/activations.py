# Generated from reference/activations.py by `nox -s exercises`: this is your file, edit it.
# Replace each `raise NotImplementedError(...)` with your code; `nox` grades it.
"""Exercise ``activations``: ReLU, LeakyReLU, Sigmoid and Tanh as layers.

An activation applies one scalar function ``a`` to every element: ``out[i] = a(x[i])``, same
shape. Each ``out[i]`` depends on ``x[i]`` alone, so the chain rule has one term per element::

    dL/dx[i] = dL/dout[i] * a'(x[i])

Your work for each activation: derive ``a'`` on paper, decide what ``forward`` must keep so that
``backward`` can compute it (the input, a mask, or the output itself), and write both. These
layers have no parameters: ``params`` and ``grads`` stay empty. ``nox -s hint -- activations``
gives hints, one level per call.

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
    """The rectified linear unit: ``out[i] = max(x[i], 0)``, element by element.

    Shapes: ``x``, ``out``, ``dout`` and ``dx`` all have the same shape (any number of axes).

    Contract: ``forward(x)`` returns ``out`` and keeps in ``self.positive`` what ``backward``
    needs; ``backward(dout)`` returns ``dx = dL/dx``.

    To derive: ``a'(x)`` for ``x > 0`` and for ``x < 0``. At exactly ``x = 0`` ReLU has no
    derivative; this library takes 0 there (as PyTorch does).

    The grader checks: ``out`` against an element-by-element oracle; ``dx`` against central
    differences, on inputs kept away from 0; known values, the one at exactly 0 included; the
    dtype kept (float32 in, float32 out); ``x`` and ``dout`` never modified, even through
    ``out``; ``backward`` uses the input of the last ``forward``.
    """

    def __init__(self) -> None:
        super().__init__()
        self.positive: np.ndarray  # forward keeps the mask of x > 0 here

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError("activations: implement ReLU.forward in exercises/activations.py")

    def backward(self, dout: np.ndarray) -> np.ndarray:
        raise NotImplementedError(
            "activations: implement ReLU.backward in exercises/activations.py"
        )


class LeakyReLU(Layer):
    """ReLU with a small slope below zero.

    Definition, element by element, with ``negative_slope`` given to the constructor::

        out[i] = x[i]                    where x[i] > 0
        out[i] = negative_slope * x[i]   elsewhere

    Shapes: like ReLU, ``out``, ``dout`` and ``dx`` have the shape of ``x``.

    Contract: ``forward(x)`` returns ``out`` and keeps in ``self.positive`` what ``backward``
    needs; ``backward(dout)`` returns ``dx = dL/dx``. The constructor (given) checks
    ``negative_slope``: a number in ``[0, 1)``, else a ``ValueError`` naming it.

    To derive: ``a'(x)`` on each side of 0; at exactly 0 this library takes ``negative_slope``
    (as PyTorch does).

    The grader checks what it checks for ReLU, with several slopes: the layer must use its own
    ``self.negative_slope``, and keep the dtype of the input.
    """

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = checks.fraction("negative_slope", negative_slope)
        self.positive: np.ndarray  # forward keeps the mask of x > 0 here

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError(
            "activations: implement LeakyReLU.forward in exercises/activations.py"
        )

    def backward(self, dout: np.ndarray) -> np.ndarray:
        raise NotImplementedError(
            "activations: implement LeakyReLU.backward in exercises/activations.py"
        )

    def __repr__(self) -> str:
        return f"LeakyReLU(negative_slope={self.negative_slope})"


class Sigmoid(Layer):
    """The logistic function: ``out[i] = s(x[i])`` with ``s(x) = 1 / (1 + exp(-x))``, in (0, 1).

    Shapes: ``out``, ``dout`` and ``dx`` have the shape of ``x``.

    Contract: ``forward(x)`` returns ``out`` and keeps it in ``self.out``: the derivative of
    ``s`` can be written with ``s`` alone. ``backward(dout)`` returns ``dx = dL/dx``.

    To derive: ``s'(x)``, then write it as a function of ``s(x)`` only.

    Stability, a property the grader checks: ``exp(-x)`` overflows for ``x < -709`` in float64
    (``x < -88`` in float32). Your forward must never exponentiate a large positive number:
    ``Sigmoid().forward`` of ``[-1000, 1000]`` is exactly ``[0.0, 1.0]``, with no overflow
    warning, in float64 and float32. (Find another form of ``s`` that is safe for ``x < 0``.)

    The grader checks: values against an oracle; ``dx`` against central differences; the
    value 0.5 and the slope 0.25 at 0; huge inputs without a warning and with a zero, finite
    gradient; float32 stays float32; inputs never modified; the last forward is used.
    """

    def __init__(self) -> None:
        super().__init__()
        self.out: np.ndarray  # forward keeps its output s(x) here

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError(
            "activations: implement Sigmoid.forward in exercises/activations.py"
        )

    def backward(self, dout: np.ndarray) -> np.ndarray:
        raise NotImplementedError(
            "activations: implement Sigmoid.backward in exercises/activations.py"
        )


class Tanh(Layer):
    """The hyperbolic tangent: ``out[i] = tanh(x[i]) = (e^x - e^-x) / (e^x + e^-x)``, in (-1, 1).

    Shapes: ``out``, ``dout`` and ``dx`` have the shape of ``x``.

    Contract: ``forward(x)`` returns ``out`` and keeps it in ``self.out``; ``backward(dout)``
    returns ``dx = dL/dx``.

    To derive: ``tanh'(x)``, written as a function of ``tanh(x)`` only.

    Stability, a property the grader checks: ``forward`` of ``[-1000, 1000]`` is exactly
    ``[-1.0, 1.0]``, with no overflow warning, in float64 and float32.

    The grader checks what it checks for Sigmoid: values, gradients, huge inputs, dtypes,
    inputs never modified, the last forward used.
    """

    def __init__(self) -> None:
        super().__init__()
        self.out: np.ndarray  # forward keeps its output tanh(x) here

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError("activations: implement Tanh.forward in exercises/activations.py")

    def backward(self, dout: np.ndarray) -> np.ndarray:
        raise NotImplementedError(
            "activations: implement Tanh.backward in exercises/activations.py"
        )
