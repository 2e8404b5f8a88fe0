"""Exercise pool: max pooling, average pooling and flatten.

Pooling summarizes each ``k x k`` window of every channel by one number (its maximum or its
mean); no parameters. For an input ``(N, C, H, W)``, window size k and stride s (default k)::

    out[n, c, i, j] = max  (or mean) over 0 <= p, q < k of  x[n, c, i*s + p, j*s + q]
    OH = floor((H - k) / s) + 1           OW = floor((W - k) / s) + 1

Windows that do not fit are dropped (a 7x7 input with k = s = 2 gives 3x3: the last row and
column are never seen). ``Flatten`` turns the ``(N, C, H, W)`` maps into ``(N, C*H*W)`` rows for
``Linear``.

Given: the settings and input checks of both poolings (``_Pool2d``), and
``_Pool2d.window_slices``, which gives, for every position (p, q) inside the window, the index
that selects the value at (p, q) of every window at once. The rule of speed, checked by the
grader by counting the lines of your Python that run: no Python loop whose number of iterations
grows with the batch or the number of windows; a loop over the ``k*k`` positions in the window
is allowed.

Memory order, for speed only (the grader checks values, shapes and dtypes): the convolution's
output is an ``(N, C, H, W)`` array whose batch axis varies fastest in memory. Arrays created in
the memory order of the arrays they are computed with (numpy's "K" order, which ``zeros_like``
and ufuncs keep) let every elementwise operation run on matching layouts; a C-ordered array
mixed with a batch-last one makes numpy read one of them in short strided pieces.
"""

from __future__ import annotations

import numpy as np

from toolkit import checks
from toolkit.layer import Layer

from .conv_naive import conv_output_size


class _Pool2d(Layer):
    """What both poolings share (given): settings, input checks and the window slices."""

    def __init__(self, kernel_size: int = 2, stride: int | None = None) -> None:
        super().__init__()
        self.kernel_size = checks.positive_int("kernel_size", kernel_size)
        self.stride = self.kernel_size if stride is None else checks.positive_int("stride", stride)

    def output_shape(self, x: np.ndarray) -> tuple[int, int, int, int]:
        """Check that ``x`` is 4-D and at least one window fits; return ``(N, C, OH, OW)``."""
        checks.shape("x", x, ("N", "C", "H", "W"))
        n, channels, height, width = x.shape
        k, s = self.kernel_size, self.stride
        return n, channels, conv_output_size(height, k, s, 0), conv_output_size(width, k, s, 0)

    def window_slices(self, out_height: int, out_width: int) -> list[tuple[slice, ...]]:
        """One index per position (p, q) in the window, in row-major order (p, then q).

        ``x[index]`` is ``x[:, :, p : p + s*OH : s, q : q + s*OW : s]``: the value at (p, q) of
        every window, shape ``(N, C, OH, OW)``.
        """
        k, s = self.kernel_size, self.stride
        return [
            (
                slice(None),
                slice(None),
                slice(p, p + s * out_height, s),
                slice(q, q + s * out_width, s),
            )
            for p in range(k)
            for q in range(k)
        ]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kernel_size={self.kernel_size}, stride={self.stride})"


class MaxPool2d(_Pool2d):
    """Max pooling: each window of each channel is replaced by its maximum.

    Args:
        kernel_size: k, the windows are ``k x k``.
        stride: the step between windows (default: k, windows side by side).

    Forward: ``(N, C, H, W) -> (N, C, OH, OW)``, the definition of the module docstring.

    The tie rule (the contract, since the maximum is not differentiable where several elements
    of a window equal it): the *first* of them in row-major window order (smallest p, then
    smallest q) is the one the maximum depends on.

    The contract: ``forward`` keeps what backward needs (``self.x`` and ``self.out``, declared
    in the constructor) at every call; ``backward(dout)`` returns ``dx = dL/dx`` of the shape
    and dtype of x. Derive ``dL/dx[n, c, y, z]`` from the definition and the tie rule: which
    outputs depend on that element, and with which slope? Windows overlap when s < k.

    What the grader checks: the output against a brute-force oracle (windows that do not tile
    the input among the cases), dx against central differences on inputs without ties, the
    tie rule, overlapping windows, float32 and non-contiguous views, the latest forward, bad
    inputs, the rule of speed.
    """

    def __init__(self, kernel_size: int = 2, stride: int | None = None) -> None:
        super().__init__(kernel_size, stride)
        self.x: np.ndarray  # forward keeps its input
        self.out: np.ndarray  # and its output

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``(N, C, H, W) -> (N, C, OH, OW)``; the first line (given) checks x."""
        _, _, out_height, out_width = self.output_shape(x)
        # BEGIN SOLUTION
        # HINT 1: The maximum of k*k numbers is a running maximum. For one position (p, q) in
        #   the window, what is the value at (p, q) of every window at once?
        # HINT 2: out[n, c, i, j] = max over (p, q) of x[n, c, i*s + p, j*s + q]: the
        #   maximum, elementwise, of k*k arrays of shape (N, C, OH, OW).
        # HINT 3: window_slices(OH, OW) gives the k*k indices; each selects an (N, C, OH, OW)
        #   array from x. The running maximum starts as a copy of the first (never a view of x:
        #   it would write into x), in x's memory order.
        # HINT 4: Start from a copy of x at the first window position (keeping its memory
        #   order), take the elementwise maximum with each following position; keep x and the
        #   output.
        # DERIVATION:
        #   For each position $(p, q)$ of the window, $X^{(p,q)}_{n,c,i,j} =
        #   x_{n,c,is+p,js+q}$ has shape $(N, C, OH, OW)$ (a strided slice), and
        #   $\text{out} = \max_{(p,q)} X^{(p,q)}$ elementwise over $k^2$ such arrays. The
        #   running maximum is a copy of $X^{(0,0)}$ in the memory order of $x$ ("K" order; a
        #   plain copy would be C-ordered), so the maxima and backward's arrays, created like
        #   `out` and `x`, all share one layout.
        # MISTAKES:
        windows = self.window_slices(out_height, out_width)
        out = x[windows[0]].copy(order="K")  # in x's memory order
        for index in windows[1:]:
            np.maximum(out, x[index], out=out)
        self.x, self.out = x, out
        return out
        # END SOLUTION

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """``dout`` ``(N, C, OH, OW)`` -> dx ``(N, C, H, W)``."""
        # BEGIN SOLUTION
        # HINT 1: Write the derivative of out[n, c, i, j] with respect to each element of its
        #   window. How many of them are not zero, and which one under the tie rule?
        # HINT 2: d out[n, c, i, j] / d x[n, c, i*s + p, j*s + q] is 1 for the window's first
        #   maximum (p*, q*) and 0 for every other (p, q), so dL/dx[n, c, y, z] is the sum of
        #   dout[n, c, i, j] over the windows (i, j) whose first maximum sits at (y, z).
        # HINT 3: Walk the k*k window positions in row-major order with an (N, C, OH, OW)
        #   boolean "not yet claimed" mask: a position claims the windows where it equals the
        #   output and no earlier position did. dx starts at zero, of x's shape and dout's dtype.
        # HINT 4: For each position in order, the windows it claims are those where its value
        #   equals the kept output and the mask is still set; add dout times that selection to
        #   dx at the position's index (add: windows overlap), then clear those windows from the
        #   mask.
        # DERIVATION:
        #   Within a window, $\max$ is locally the identity of its maximal element and constant
        #   in the others. With $(p^*, q^*)_{n,c,i,j}$ the first maximal position in row-major
        #   order (the tie rule),
        #
        #   $$\frac{\partial\, \text{out}_{n,c,i,j}}{\partial x_{n,c,is+p,js+q}} =
        #   [(p, q) = (p^*, q^*)_{n,c,i,j}]$$
        #
        #   and by the chain rule, summing over every window that contains the element,
        #
        #   $$\frac{\partial L}{\partial x_{n,c,y,z}} = \sum_{(i,j,p,q):\; is+p=y,\;
        #   js+q=z} \text{dout}_{n,c,i,j}\, [(p, q) = (p^*, q^*)_{n,c,i,j}]$$
        #
        #   shape $(N, C, H, W)$; rows and columns that no window covers get 0. Vectorized over
        #   $(n, c, i, j)$: for each $(p, q)$ in order, the selection "equal to the output and
        #   not yet claimed" is an $(N, C, OH, OW)$ boolean array.
        # MISTAKES:
        #   - The gradient sent to the whole window: `gradient check failed: dx of
        #     MaxPool2d(kernel_size=3, stride=2) on x of shape (1, 1, 7, 7) ... your backward gave
        #     2.25108, numerical 0`, and the tie check below.
        #   - Every element equal to the maximum gets the gradient (doubled on ties): `MaxPool2d(2)
        #     on windows [[1, 5], [5, 2]] and [[3, 3], [3, 3]], dout = 1 and 2: dx differs from the
        #     expected values`, then `likely mistake: on a tie, the first maximum in row-major
        #     window order gets all the gradient; the others (and the non-maxima) get 0`.
        #   - Assigning (`=`) where windows overlap: `MaxPool2d(3, stride=1) on a 4x4 x whose
        #     element [1, 1] is the maximum of all four windows, dout = [[1, 2], [3, 4]]: dx differs
        #     from the expected values ... got 1, expected 10`, then `likely mistake: an element
        #     that is the maximum of several windows gets the sum of their gradients (+=, not =)`.
        #   - dx created as float64: `MaxPool2d(kernel_size=2, stride=None) on x of shape (2, 3, 6,
        #     5) with x a float32 non-contiguous view: dx has dtype float64, expected float32
        #     (likely mistake: an intermediate array created as float64, the default dtype)`.
        x, out = self.x, self.out
        dx = np.zeros_like(x, dtype=dout.dtype)  # x's shape, and its memory order
        unclaimed = np.ones_like(out, dtype=bool)
        is_max = np.empty_like(unclaimed)  # one scratch array for every position, via out=
        overlapping = self.stride < self.kernel_size
        for index in self.window_slices(*out.shape[2:]):
            np.equal(x[index], out, out=is_max)
            is_max &= unclaimed
            if overlapping:
                dx[index] += is_max * dout
            else:  # the positions' slices are disjoint: each is written once, no sum needed
                np.multiply(is_max, dout, out=dx[index])
            unclaimed ^= is_max  # is_max lies inside unclaimed: this clears it, in place
        return dx
        # END SOLUTION


class AvgPool2d(_Pool2d):
    """Average pooling: each window of each channel is replaced by its mean.

    Args:
        kernel_size: k, the windows are ``k x k``.
        stride: the step between windows (default: k).

    Forward: ``(N, C, H, W) -> (N, C, OH, OW)``, the mean of the module docstring's
    definition. ``forward`` keeps what backward needs (``self.x_shape``, declared in the
    constructor); ``backward(dout)`` returns dx of x's shape. Derive ``dL/dx[n, c, y, z]``:
    every window that contains the element contributes. The grader checks what it checks for
    max pooling (ties aside).
    """

    def __init__(self, kernel_size: int = 2, stride: int | None = None) -> None:
        super().__init__(kernel_size, stride)
        self.x_shape: tuple[int, ...]  # forward keeps the shape of its input

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``(N, C, H, W) -> (N, C, OH, OW)``; the first line (given) checks x."""
        n, channels, out_height, out_width = self.output_shape(x)
        # BEGIN SOLUTION
        # HINT 1: The mean of a window is its sum over the k*k positions, divided by k*k.
        # HINT 2: out[n, c, i, j] = (1 / k^2) sum_{p, q} x[n, c, i*s + p, j*s + q].
        # HINT 3: Each of the k*k indices of window_slices selects an (N, C, OH, OW) array; a
        #   running total of that shape, with x's dtype, adds them up.
        # HINT 4: Add up the k*k selections, divide by k squared; keep the shape of x.
        # DERIVATION:
        #   $\text{out}_{n,c,i,j} = \frac{1}{k^2} \sum_{p,q} x_{n,c,is+p,js+q}$: a sum of
        #   $k^2$ strided slices of shape $(N, C, OH, OW)$.
        # MISTAKES:
        total = np.zeros((n, channels, out_height, out_width), dtype=x.dtype)
        for index in self.window_slices(out_height, out_width):
            total += x[index]
        self.x_shape = x.shape
        return total / self.kernel_size**2
        # END SOLUTION

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """``dout`` ``(N, C, OH, OW)`` -> dx ``(N, C, H, W)``."""
        # BEGIN SOLUTION
        # HINT 1: Write d out[n, c, i, j] / d x[n, c, y, z] for an element inside the window
        #   (i, j), and for one outside it.
        # HINT 2: It is 1 / k^2 inside, 0 outside: dL/dx[n, c, y, z] is the sum of
        #   dout[n, c, i, j] / k^2 over the windows (i, j) that contain (y, z).
        # HINT 3: dout / k^2 is (N, C, OH, OW), the shape of each window position's selection:
        #   it goes back onto every position's index of a zero dx of x's shape.
        # HINT 4: Start dx at zero; for each of the k*k positions add dout divided by k squared
        #   at that position's index (add: windows overlap).
        # DERIVATION:
        #   $\partial\, \text{out}_{n,c,i,j} / \partial x_{n,c,is+p,js+q} = 1/k^2$ for every
        #   $(p, q)$ of the window, so
        #
        #   $$\frac{\partial L}{\partial x_{n,c,y,z}} = \frac{1}{k^2}
        #   \sum_{(i,j,p,q):\; is+p=y,\; js+q=z} \text{dout}_{n,c,i,j}$$
        #
        #   shape $(N, C, H, W)$: each of the $k^2$ window positions receives
        #   $\text{dout} / k^2$ (shape $(N, C, OH, OW)$) on its strided slice; uncovered
        #   elements get 0.
        # MISTAKES:
        #   - The division by the window size forgotten: `gradient check failed: dx of
        #     AvgPool2d(kernel_size=3, stride=2) on x of shape (1, 1, 7, 7) ... worst element [0, 0,
        #     5, 2]: your backward gave 2.25108, numerical 0.25012`, then `likely mistake: your
        #     gradient is 9 times the true one: a constant factor is wrong`.
        dx = np.zeros(self.x_shape, dtype=dout.dtype)
        share = dout / self.kernel_size**2
        for index in self.window_slices(*dout.shape[2:]):
            dx[index] += share
        return dx
        # END SOLUTION


class Flatten(Layer):
    """``(N, d1, d2, ...) -> (N, d1*d2*...)``: one row per sample, for a ``Linear`` layer.

    ``out[n, f]`` is the ``f``-th value of sample ``n`` in row-major (C) order. ``forward``
    keeps what backward needs (``self.x``, declared in the constructor) and starts with a
    given check (a ``ValueError`` for fewer than 2 axes); ``backward(dout)`` returns dx of the
    shape of the latest forward input, in that input's memory order (for the speed of the
    layer before, see the module docstring; not graded). Flatten moves values without changing
    them: derive dx from that. No copy is needed for a contiguous input.

    What the grader checks: the rows against the samples (a non-contiguous input among the
    cases), dx, central differences, the latest forward.
    """

    def __init__(self) -> None:
        super().__init__()
        self.x: np.ndarray  # forward keeps its input (its shape and memory order)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``(N, ...) -> (N, prod(...))``."""
        if x.ndim < 2:
            raise ValueError(f"expected x of shape (N, ...) with at least 2 axes, got {x.shape}")
        # BEGIN SOLUTION
        # HINT 1: Which axis must stay where it is, and how many values does each sample hold?
        # HINT 2: out[n, f] = x[n, d1_index, d2_index, ...] with f the row-major position of
        #   the index tuple inside one sample.
        # HINT 3: (N, d1, ..., dk) to (N, d1*...*dk): the batch axis stays first and keeps N;
        #   numpy's row-major reshape gives exactly that order.
        # HINT 4: Keep the shape of x, then reshape to N rows and as many columns as needed.
        # DERIVATION:
        #   Flatten is a permutation-free relabelling of the values: $\text{out}_{n,f} =
        #   x_{n,\iota(f)}$ with $\iota$ the row-major unravelling of $f$ over
        #   $(d_1, \dots, d_k)$. Each input value reaches exactly one output with slope 1, so
        #   $\partial L / \partial x_{n,\iota(f)} = \text{dout}_{n,f}$: the gradient is dout
        #   read back in the input's shape $(N, d_1, \dots, d_k)$.
        # MISTAKES:
        #   - The batch axis not kept first: `Flatten() on x of shape (2, 3, 4, 5): output has the
        #     wrong shape`, `returned shape (60, 2), expected (2, 60)`, then `likely mistake: the
        #     batch axis must stay first: one row per sample, its values in their order`.
        self.x = x
        return x.reshape(x.shape[0], -1)
        # END SOLUTION

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """``(N, prod(...)) -> (N, ...)``, the shape of the forward input."""
        # BEGIN SOLUTION
        # DERIVATION:
        #   With $\partial L / \partial x_{n,\iota(f)} = \text{dout}_{n,f}$ (see forward),
        #   dx holds the values of dout, shape $(N, \prod_k d_k)$, read back in the shape of
        #   the latest forward's input, $(N, d_1, \dots, d_k)$, and written into an array of
        #   that input's memory order: after a convolution and a pooling that order is batch
        #   last, and the pooling's backward then reads dx, its dout, at the speed of its own
        #   arrays (a C-ordered dout measured twice as slow in LeNet-5's second pooling).
        dx = np.empty_like(self.x, dtype=dout.dtype)  # x's shape and memory order
        dx[...] = dout.reshape(self.x.shape)
        return dx
        # END SOLUTION
