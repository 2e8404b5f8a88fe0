# Generated from reference/conv_naive.py by `nox -s exercises`: this is your file, edit it.
# Replace each `raise NotImplementedError(...)` with your code; `nox` grades it.
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
input check. The exercise: ``NaiveConv2d.forward`` and the two halves of ``backward``
(``backward_params`` and ``backward_input``, which ``Layer.backward`` calls), written with
explicit Python loops over the output positions (speed is the next exercise's concern:
``conv.Conv2d`` reuses this constructor and replaces the loops by one matrix product). You
derive the three gradients of the backward pass from the definition above.
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

    Forward, the definition (``xpad`` is ``x`` with ``pad`` zeros on each of the four sides,
    ``s`` the stride)::

        out[n, o, i, j] = b[o] + sum_{c, p, q} W[o, c, p, q] * xpad[n, c, i*s + p, j*s + q]

    for ``0 <= i < OH``, ``0 <= j < OW``: a cross-correlation, the filter is not flipped.

    Shapes: x ``(N, C, H, W)``, out and dout ``(N, O, OH, OW)`` with ``dout[n, o, i, j] =
    dL/d out[n, o, i, j]``, dx ``(N, C, H, W)``; ``grads["W"]`` and ``grads["b"]`` have the
    shapes and dtypes of ``W`` and ``b``.

    The contract: ``forward`` keeps what ``backward`` needs (in ``self.x_padded``, declared in
    the constructor) at every call; ``backward(dout)`` (given, in ``Layer``) calls
    ``backward_params(dout)``, which *sets* ``grads["W"] = dL/dW`` and ``grads["b"] = dL/db``
    for that call, then ``backward_input(dout)``, which returns ``dx = dL/dx`` (only when
    ``needs_input_grad`` is True: the first layer of a network in training skips it). Neither
    modifies ``x`` nor ``dout``; a float32 layer on float32 input keeps float32 everywhere.

    To derive, from the definition and ``dout`` with the chain rule: ``dL/dW[o, c, p, q]``,
    ``dL/db[o]`` and ``dL/dx[n, c, y, z]``. An input pixel may lie in several windows (when the
    stride is smaller than the kernel) and a weight is used at every output position: ask, for
    each, which outputs it reaches.

    What the grader checks: an output worked out by hand, the output against a brute-force
    oracle on random shapes, strides and paddings (windows that do not tile the input among
    them), the three gradients against central differences, dx of the shape of x, float32 kept,
    a non-contiguous input read and left alone, backward using the latest forward, and the
    ``ValueError`` of an input that does not fit.
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
        self.x_padded: np.ndarray  # forward keeps the padded input here

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
        """``(N, C, H, W) -> (N, O, OH, OW)``, the definition; keeps the padded input.

        The first line (given) checks ``x`` and gives the output's shape. The output has x's
        dtype.
        """
        n, out_channels, out_height, out_width = self.output_shape(x)
        raise NotImplementedError(
            "conv_naive: implement NaiveConv2d.forward in exercises/conv_naive.py"
        )

    def backward_params(self, dout: np.ndarray) -> None:
        """dout ``(N, O, OH, OW)``: sets ``grads["W"]`` (the shape of W) and ``grads["b"]``."""
        raise NotImplementedError(
            "conv_naive: implement NaiveConv2d.backward_params in exercises/conv_naive.py"
        )

    def backward_input(self, dout: np.ndarray) -> np.ndarray:
        """dout ``(N, O, OH, OW)`` -> dx ``(N, C, H, W)``."""
        raise NotImplementedError(
            "conv_naive: implement NaiveConv2d.backward_input in exercises/conv_naive.py"
        )
