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
        # BEGIN SOLUTION
        # HINT 1: forward returns a new array (never write into x) and keeps, for backward,
        #   which elements were positive.
        # DERIVATION:
        #   $\mathrm{out}_i = \max(x_i, 0)$ is $x_i$ where $x_i > 0$ and $0$ elsewhere, in a
        #   new array of the shape of $x$ (writing into $x$ would change the caller's
        #   array). Backward will need to know where $x_i > 0$: forward keeps that boolean
        #   mask, of the shape of $x$.
        # MISTAKES:
        #   - Writing into `x` (`x[x < 0] = 0`): `likely mistake: an in-place operation on an
        #     argument`.
        self.positive = x > 0
        return np.maximum(x, 0)
        # END SOLUTION

    def backward(self, dout: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION
        # HINT 1: What is d out[i] / d x[i] where x[i] > 0, and where x[i] < 0? dx[i] is
        #   dout[i] times it.
        # HINT 2: a'(x) = 1 for x > 0 and 0 for x <= 0 (0 at x = 0 by convention), so
        #   dx[i] = dout[i] where x[i] > 0, and 0 elsewhere.
        # HINT 3: dout, the mask kept by forward and dx all have the shape of x: one
        #   element-wise product, no sum.
        # HINT 4: dx is dout times the mask kept in forward (True counts as 1, False as 0);
        #   a boolean mask keeps dout's dtype.
        # DERIVATION:
        #   $\mathrm{out}_i$ depends on $x_i$ only, with
        #
        #   $$a'(x) = \begin{cases} 1 & x > 0 \\ 0 & x \le 0 \end{cases}$$
        #
        #   (0 at the kink, by convention). The chain rule then has one term per element:
        #
        #   $$\frac{\partial L}{\partial x_i} = \frac{\partial L}{\partial \mathrm{out}_i}
        #   \, a'(x_i) = \begin{cases} \delta_i & x_i > 0 \\ 0 & x_i \le 0 \end{cases}$$
        #
        #   with $\delta$ = `dout`: the upstream gradient passes where the input was
        #   positive and stops elsewhere. Shapes: $\delta$, the mask and $dx$ are all the
        #   shape of $x$.
        # MISTAKES:
        #   - Passing `dout` through unchanged: `likely mistake: the gradient passes only
        #     where the forward input was x > 0: check the mask and that it comes from the
        #     input of forward`.
        #   - A mask of `x >= 0`: the known value at exactly 0 fails, `likely mistake: at
        #     exactly x = 0 the derivative is taken as 0 for ReLU and as negative_slope for
        #     LeakyReLU`.
        #   - A mask computed from `dout` instead of the forward input: the gradient check
        #     fails on elements where their signs differ.
        return dout * self.positive
        # END SOLUTION


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
        # BEGIN SOLUTION
        # HINT 3: out has the shape of x; each element is chosen between x[i] and a scaled
        #   x[i] by the sign of x[i]. A Python float times a float32 array stays float32.
        # DERIVATION:
        #   Element by element, $\mathrm{out}_i = x_i$ where $x_i > 0$ and
        #   $\alpha x_i$ elsewhere, with $\alpha$ = `negative_slope`: a choice between two
        #   arrays of the shape of $x$ by the mask $x_i > 0$, which forward keeps for
        #   backward. $\alpha$ is a Python float, so $\alpha x$ keeps the dtype of $x$.
        # STATED: self.negative_slope * x
        # MISTAKES:
        #   - A constant slope instead of `self.negative_slope`: `likely mistake: the output
        #     below zero is not scaled by the layer's own slope, self.negative_slope`.
        self.positive = x > 0
        return np.where(self.positive, x, self.negative_slope * x)
        # END SOLUTION

    def backward(self, dout: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION
        # HINT 1: As for ReLU: what is the derivative on each side of 0?
        # HINT 2: a'(x) = 1 for x > 0 and negative_slope for x <= 0, so dx[i] = dout[i] where
        #   x[i] > 0 and negative_slope dout[i] elsewhere.
        # HINT 3: dx has the shape of x: choose, element by element with the mask kept by
        #   forward, between dout and a scaled dout.
        # HINT 4: where the kept mask is true dx is dout; elsewhere, negative_slope times
        #   dout. Multiplying by an array of 1.0 and slope values would make dx float64.
        # DERIVATION:
        #   With $\alpha$ = `negative_slope` and $\delta$ = `dout`,
        #
        #   $$a'(x) = \begin{cases} 1 & x > 0 \\ \alpha & x \le 0 \end{cases}
        #   \qquad\Longrightarrow\qquad
        #   \frac{\partial L}{\partial x_i} = \begin{cases} \delta_i & x_i > 0 \\
        #   \alpha\, \delta_i & x_i \le 0 \end{cases}$$
        #
        #   element by element, every array of the shape of $x$.
        # MISTAKES:
        #   - The ReLU gradient (0 below zero): the gradient check fails on the negative
        #     inputs, with `likely mistake: the derivative is negative_slope below zero, not 0
        #     as for ReLU`.
        #   - `dout` times an array built from `1.0` and the slope: float64 for a float32
        #     input, `the backward dx has dtype float64, expected float32`.
        return np.where(self.positive, dout, self.negative_slope * dout)
        # END SOLUTION

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
        # BEGIN SOLUTION
        # HINT 2: 1 / (1 + e^{-x}) is safe for x >= 0; for x < 0 multiply its numerator and
        #   denominator by e^{x}: s(x) = e^{x} / (1 + e^{x}), where e^{x} < 1.
        # HINT 4: with z = e^{-|x|}, which is in (0, 1] for every x, s(x) = 1 / (1 + z)
        #   where x >= 0 and z / (1 + z) where x < 0: compute z once, choose per element.
        # DERIVATION:
        #   For $x \ge 0$, $e^{-x} \in (0, 1]$ and $s(x) = 1/(1 + e^{-x})$ is safe. For
        #   $x < 0$, $e^{-x}$ may overflow; multiplying the numerator and the denominator by
        #   $e^{x}$ gives $s(x) = e^{x} / (1 + e^{x})$, where $e^{x} \in (0, 1)$. Both are
        #   written with $z = e^{-|x|} \in (0, 1]$:
        #
        #   $$s(x) = \begin{cases} \dfrac{1}{1 + z} & x \ge 0 \\[4pt] \dfrac{z}{1 + z} & x < 0
        #   \end{cases}$$
        #
        #   Nothing larger than 1 is ever exponentiated, so $s(-1000) = 0$ and
        #   $s(1000) = 1$ exactly, without a warning. Forward keeps its output (shape of
        #   $x$) for backward.
        # MISTAKES:
        #   - The naive formula: on the huge inputs the grader reports the overflow warning,
        #     with `likely mistake: exp of a large positive number overflows; find a form of
        #     s(x) that exponentiates only numbers <= 0`.
        z = np.exp(-np.abs(x))
        denominator = 1 + z
        self.out = np.where(x >= 0, 1 / denominator, z / denominator)
        return self.out
        # END SOLUTION

    def backward(self, dout: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION
        # HINT 1: Differentiate s(x) = 1 / (1 + e^{-x}) with the chain rule, then write the
        #   result with s(x) itself: backward then needs only the output kept by forward.
        # HINT 2: s'(x) = e^{-x} / (1 + e^{-x})^2 = s(x) (1 - s(x)), and dx[i] is dout[i]
        #   times s'(x[i]).
        # HINT 3: dout, the kept output and dx all have the shape of x: element-wise
        #   products only.
        # HINT 4: dx is dout times the kept output times one minus the kept output.
        # DERIVATION:
        #   With $u = 1 + e^{-x}$, $s = u^{-1}$ and
        #
        #   $$s'(x) = -u^{-2} \cdot \frac{du}{dx} = \frac{e^{-x}}{(1 + e^{-x})^2}
        #   = \frac{1}{1 + e^{-x}} \cdot \frac{e^{-x}}{1 + e^{-x}} = s(x)\,\bigl(1 - s(x)\bigr),$$
        #
        #   since $e^{-x}/(1 + e^{-x}) = 1 - 1/(1 + e^{-x})$. Element by element,
        #
        #   $$\frac{\partial L}{\partial x_i} = \delta_i\, s_i (1 - s_i)$$
        #
        #   with $\delta$ = `dout` and $s_i$ the output kept by forward: all arrays of the
        #   shape of $x$. The slope is largest at 0 ($s'(0) = 1/4$) and vanishes for a
        #   saturated unit.
        # MISTAKES:
        #   - $s$ in place of $s(1 - s)$, or the derivative written with $x$ in place of
        #     $s(x)$: `likely mistake: the slope of the sigmoid at 0 is 0.25`, and on the
        #     gradient checks `dx is not dout times s'(x): derive s'(x) and write it with the
        #     output s(x) that forward kept`.
        return dout * self.out * (1 - self.out)
        # END SOLUTION


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
        # BEGIN SOLUTION
        # HINT 3: the formula with exponentials overflows for |x| > 709; numpy has the
        #   hyperbolic tangent itself, computed stably.
        # DERIVATION:
        #   numpy's hyperbolic tangent is stable for every input (it saturates to $\pm 1$
        #   instead of computing $\infty / \infty$); forward keeps its output, of the shape
        #   of $x$, for backward.
        # MISTAKES:
        #   - The formula with `np.exp`: an overflow on the huge inputs, `likely mistake: exp
        #     of a large positive number overflows; numpy's own hyperbolic tangent is stable`.
        self.out = np.tanh(x)
        return self.out
        # END SOLUTION

    def backward(self, dout: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION
        # HINT 1: Differentiate tanh(x) = sinh(x) / cosh(x) with the quotient rule, and
        #   write the result with tanh(x) itself.
        # HINT 2: tanh'(x) = (cosh^2 - sinh^2) / cosh^2 = 1 - tanh(x)^2, and dx[i] is
        #   dout[i] times tanh'(x[i]).
        # HINT 3: element-wise again: every array has the shape of x.
        # HINT 4: dx is dout times one minus the square of the kept output (the square of
        #   the output, not of one minus it).
        # DERIVATION:
        #   With $\tanh = \sinh / \cosh$, $\sinh' = \cosh$ and $\cosh' = \sinh$,
        #
        #   $$\tanh'(x) = \frac{\cosh^2 x - \sinh^2 x}{\cosh^2 x} = 1 - \tanh^2 x,$$
        #
        #   so, element by element with $\delta$ = `dout` and $t_i$ the output kept by
        #   forward,
        #
        #   $$\frac{\partial L}{\partial x_i} = \delta_i\,(1 - t_i^2),$$
        #
        #   every array of the shape of $x$.
        # MISTAKES:
        #   - $(1 - t)^2$ in place of $1 - t^2$: `likely mistake: dx is not dout times
        #     tanh'(x): derive it as a function of the output t that forward kept, and check
        #     where the square goes`.
        return dout * (1 - self.out**2)
        # END SOLUTION
