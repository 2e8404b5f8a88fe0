# Generated from reference/pool.py by `nox -s exercises`: this is your file, edit it.
# Replace each `raise NotImplementedError(...)` with your code; `nox` grades it.
"""Exercise pool: max pooling, average pooling and flatten.

Pooling summarizes each ``k x k`` window of every channel by one number (its maximum or its
mean); no parameters. For an input ``(N, C, H, W)``, window size k and stride s (default k)::

    out[n, c, i, j] = max  (or mean) over p, q < k of  x[n, c, i*s + p, j*s + q]
    OH = floor((H - k) / s) + 1           OW = floor((W - k) / s) + 1

Windows that do not fit are dropped (a 7x7 input with k = s = 2 gives 3x3: the last row and
column are never seen, and their gradient is 0).

The kernel-position trick of ``conv.py`` works here too: for a fixed position (p, q) inside the
window, the values of all windows form one strided slice
``x[:, :, p : p + s*OH : s, q : q + s*OW : s]`` of shape ``(N, C, OH, OW)``. A loop over the
``k*k`` positions, each a whole-array operation, is all the code needs (no loop over samples or
windows). ``Flatten`` turns the ``(N, C, H, W)`` maps into ``(N, C*H*W)`` rows for ``Linear``.
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

    Forward: ``(N, C, H, W) -> (N, C, OH, OW)``, the running maximum over the ``k*k`` slices.

    Backward: the maximum of a window depends only on its largest element, with slope 1, so
    ``dout[n, c, i, j]`` goes entirely to that element and the others of the window get 0.
    Tie rule (deterministic): when several elements of a window equal its maximum, the *first*
    of them in row-major window order (smallest p, then smallest q) gets all the gradient.
    Windows overlap when s < k: an element that is the maximum of several windows receives the
    sum of their gradients (``+=``).

    Usual mistakes: sending the gradient to every element of the window (or to every element
    equal to the max, which doubles it on ties); ``=`` instead of ``+=`` with overlapping
    windows; forgetting that uncovered rows and columns get a zero gradient.

    Hint: keep x and the output; in backward, walk the window positions in row-major order with
    a boolean array ``unclaimed`` (N, C, OH, OW): position (p, q) takes the gradient where
    ``x[index] == out`` and the window is still unclaimed.
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``(N, C, H, W) -> (N, C, OH, OW)``; start with ``self.output_shape(x)``."""
        raise NotImplementedError("pool: implement MaxPool2d.forward in exercises/pool.py")

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """``dout`` ``(N, C, OH, OW)`` -> dx ``(N, C, H, W)``, routed to each window's maximum."""
        raise NotImplementedError("pool: implement MaxPool2d.backward in exercises/pool.py")


class AvgPool2d(_Pool2d):
    """Average pooling: each window of each channel is replaced by its mean.

    Args:
        kernel_size: k, the windows are ``k x k``.
        stride: the step between windows (default: k).

    Forward: ``out = (sum of the k*k slices) / k**2``.
    Backward: every element of a window gets ``dout / k**2`` from that window (the mean is
    linear with slope 1/k**2 in each element); overlapping windows add up.

    Usual mistake: forgetting to divide the gradient by the window size ``k**2``.
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``(N, C, H, W) -> (N, C, OH, OW)``; start with ``self.output_shape(x)``."""
        raise NotImplementedError("pool: implement AvgPool2d.forward in exercises/pool.py")

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """``dout`` ``(N, C, OH, OW)`` -> dx ``(N, C, H, W)``."""
        raise NotImplementedError("pool: implement AvgPool2d.backward in exercises/pool.py")


class Flatten(Layer):
    """``(N, d1, d2, ...) -> (N, d1*d2*...)``: one row per sample, for a ``Linear`` layer.

    Forward keeps the input shape; backward reshapes the gradient back to it. No copy is
    needed for a contiguous input (``reshape`` returns a view).

    Usual mistake: ``x.reshape(-1, N)`` or ``x.ravel()``: the batch axis must stay first.
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``(N, ...) -> (N, prod(...))``."""
        raise NotImplementedError("pool: implement Flatten.forward in exercises/pool.py")

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """``(N, prod(...)) -> (N, ...)``, the shape of the forward input."""
        raise NotImplementedError("pool: implement Flatten.backward in exercises/pool.py")
