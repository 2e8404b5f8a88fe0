"""Exercise conv_naive: a 2-D convolution layer written with loops, to see the arithmetic.

Layout NCHW: an input ``x`` has shape ``(N, C, H, W)`` (batch, channels, height, width). A
convolution layer holds ``W`` of shape ``(O, C, kh, kw)`` (one ``C x kh x kw`` filter per output
channel) and ``b`` of shape ``(O,)``. With stride ``s`` and zero padding ``pad`` on *every* side::

    out[n, o, i, j] = b[o] + sum_{c, p, q} W[o, c, p, q] * xpad[n, c, i*s + p, j*s + q]

    OH = floor((H + 2*pad - kh) / s) + 1        OW = floor((W + 2*pad - kw) / s) + 1

This is a cross-correlation: the filter is *not* flipped (deep-learning libraries all call it
"convolution" anyway). Windows that do not fit entirely in the padded input are dropped, which is
what the floor does.

Given here: the output-size formula, the constructor (argument checks, parameters) and the
input check. The exercise: ``NaiveConv2d.forward`` and ``backward`` with
explicit loops over the output positions. ``conv.Conv2d`` reuses this constructor and replaces
the loops by one matrix product.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from toolkit import checks
from toolkit.layer import Initializer, Layer, lecun_default


def conv_output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """Window positions along one axis: ``floor((size + 2*padding - kernel) / stride) + 1``.

    Raises:
        ValueError: when the kernel is larger than the padded input (no window fits).

    >>> conv_output_size(28, 5, 1, 2), conv_output_size(7, 3, 2, 0), conv_output_size(8, 3, 2, 0)
    (28, 3, 3)
    """
    padded = size + 2 * padding
    if kernel > padded:
        raise ValueError(
            f"kernel size {kernel} is larger than the padded input size {padded} "
            f"(input {size} + 2 * padding {padding})"
        )
    return (padded - kernel) // stride + 1


def _kernel_pair(kernel_size: int | tuple[int, int]) -> tuple[int, int]:
    """``kernel_size`` as ``(kh, kw)``: an int k means ``(k, k)``."""
    if isinstance(kernel_size, tuple):
        if len(kernel_size) != 2:
            raise ValueError(f"kernel_size must be an int or a pair (kh, kw), got {kernel_size!r}")
        return (
            checks.positive_int("kernel_size[0]", kernel_size[0]),
            checks.positive_int("kernel_size[1]", kernel_size[1]),
        )
    size = checks.positive_int("kernel_size", kernel_size)
    return size, size


class NaiveConv2d(Layer):
    """2-D convolution (cross-correlation) of NCHW inputs, written with loops.

    Args:
        in_channels: C, the channels of the input.
        out_channels: O, the number of filters (channels of the output).
        kernel_size: k for a square ``k x k`` kernel, or ``(kh, kw)``.
        stride: the step s between two windows, on both axes.
        padding: the zeros added on each of the four sides (top, bottom, left, right).
        rng: the generator of the initial weights (default ``np.random.default_rng(0)``).
        init: ``init(shape, rng, dtype) -> W`` (default: ``toolkit.layer.lecun_default``).
        dtype: dtype of the parameters.

    Parameters: ``W`` of shape ``(O, C, kh, kw)``, ``b`` of shape ``(O,)`` (zeros).

    Forward (the exercise)::

        out[n, o, i, j] = b[o] + sum_{c, p, q} W[o, c, p, q] * xpad[n, c, i*s + p, j*s + q]

    Backward: every output position (i, j) used the window
    ``xpad[:, :, i*s : i*s + kh, j*s : j*s + kw]`` of shape ``(N, C, kh, kw)``, so with
    ``g = dout[:, :, i, j]`` of shape ``(N, O)``, it contributes::

        dW               += sum_n g[n, o] * window[n, c, p, q]   (for every o, c, p, q)
        dxpad[window]    += sum_o g[n, o] * W[o, c, p, q]        (for every n, c, p, q)
        db[o]             = sum over n, i, j of dout[n, o, i, j]

    and dx is dxpad with the padding cut off. Windows overlap when s < k: accumulate (``+=``),
    never assign.

    Usual mistakes: flipping the kernel (that is the mathematician's convolution, not this);
    padding one side only; forgetting the stride when locating a window in backward; a bias
    gradient taken at one position instead of summed over the batch and all positions.

    Hint: loop over the output positions ``i, j``; the window times ``W`` summed over
    ``c, p, q`` is ``np.einsum("nchw,ochw->no", window, W)`` (or ``np.tensordot``).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int = 1,
        padding: int = 0,
        *,
        rng: np.random.Generator | None = None,
        init: Initializer | None = None,
        dtype: npt.DTypeLike = np.float32,
    ) -> None:
        super().__init__()
        self.in_channels = checks.positive_int("in_channels", in_channels)
        self.out_channels = checks.positive_int("out_channels", out_channels)
        self.kernel_size = _kernel_pair(kernel_size)
        self.stride = checks.positive_int("stride", stride)
        self.padding = checks.non_negative_int("padding", padding)
        dtype = checks.floating_dtype("dtype", dtype)
        rng = np.random.default_rng(0) if rng is None else rng
        init = lecun_default if init is None else init
        shape = (self.out_channels, self.in_channels, *self.kernel_size)
        self.params["W"] = np.asarray(init(shape, rng, dtype), dtype=dtype)
        self.params["b"] = np.zeros(self.out_channels, dtype=dtype)

    def output_shape(self, x: np.ndarray) -> tuple[int, int, int, int]:
        """Check that ``x`` is ``(N, C, H, W)`` with C = in_channels; return ``(N, O, OH, OW)``.

        Raises:
            ValueError: x is not 4-D, has the wrong number of channels, or is smaller than the
                kernel once padded.
        """
        checks.shape("x", x, ("N", self.in_channels, "H", "W"))
        kh, kw = self.kernel_size
        n, _, height, width = x.shape
        out_height = conv_output_size(height, kh, self.stride, self.padding)
        out_width = conv_output_size(width, kw, self.stride, self.padding)
        return n, self.out_channels, out_height, out_width

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``(N, C, H, W) -> (N, O, OH, OW)``; keeps the padded input for backward.

        Start with ``self.output_shape(x)`` (it checks x). Pad with
        ``np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))``. The output has x's dtype.
        """
        # BEGIN SOLUTION
        n, out_channels, out_height, out_width = self.output_shape(x)
        kh, kw = self.kernel_size
        s, pad = self.stride, self.padding
        W, b = self.params["W"], self.params["b"]
        x_padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
        out = np.empty((n, out_channels, out_height, out_width), dtype=x.dtype)
        for i in range(out_height):
            for j in range(out_width):
                window = x_padded[:, :, i * s : i * s + kh, j * s : j * s + kw]  # (N, C, kh, kw)
                out[:, :, i, j] = np.einsum("nchw,ochw->no", window, W) + b
        self.x_padded = x_padded
        return out
        # END SOLUTION

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dout ``(N, O, OH, OW)`` -> dx ``(N, C, H, W)``; fills ``grads["W"]``, ``grads["b"]``."""
        # BEGIN SOLUTION
        kh, kw = self.kernel_size
        s, pad = self.stride, self.padding
        W = self.params["W"]
        x_padded = self.x_padded
        dx_padded = np.zeros_like(x_padded)
        dW = np.zeros_like(W)
        _, _, out_height, out_width = dout.shape
        for i in range(out_height):
            for j in range(out_width):
                rows, cols = slice(i * s, i * s + kh), slice(j * s, j * s + kw)
                g = dout[:, :, i, j]  # (N, O)
                dW += np.einsum("no,nchw->ochw", g, x_padded[:, :, rows, cols])
                dx_padded[:, :, rows, cols] += np.einsum("no,ochw->nchw", g, W)
        self.grads["W"] = dW
        self.grads["b"] = dout.sum(axis=(0, 2, 3))
        padded_height, padded_width = x_padded.shape[2:]
        return dx_padded[:, :, pad : padded_height - pad, pad : padded_width - pad]
        # END SOLUTION
