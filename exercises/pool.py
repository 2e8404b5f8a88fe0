# Generated from reference/pool.py by `nox -s exercises`: this is your file, edit it.
# Replace each `raise NotImplementedError(...)` with your code; `nox` grades it.
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
        raise NotImplementedError("pool: implement MaxPool2d.forward in exercises/pool.py")

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """``dout`` ``(N, C, OH, OW)`` -> dx ``(N, C, H, W)``."""
        raise NotImplementedError("pool: implement MaxPool2d.backward in exercises/pool.py")


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
        raise NotImplementedError("pool: implement AvgPool2d.forward in exercises/pool.py")

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """``dout`` ``(N, C, OH, OW)`` -> dx ``(N, C, H, W)``."""
        raise NotImplementedError("pool: implement AvgPool2d.backward in exercises/pool.py")


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
        raise NotImplementedError("pool: implement Flatten.forward in exercises/pool.py")

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """``(N, prod(...)) -> (N, ...)``, the shape of the forward input."""
        raise NotImplementedError("pool: implement Flatten.backward in exercises/pool.py")
