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
        # BEGIN SOLUTION
        # HINT 1: Fix one output position (i, j). Which block of xpad does it read, for every
        #   n and c at once, and which axes does the sum of the definition run over?
        # HINT 2: out[:, :, i, j] is, for each n and o, sum over c, p, q of
        #   window[n, c, p, q] W[o, c, p, q], with window = xpad[n, c, i*s + p, j*s + q] for
        #   0 <= p < kh, 0 <= q < kw, plus b[o].
        # HINT 3: The window is (N, C, kh, kw), W is (O, C, kh, kw), the result (N, O): a
        #   contraction of the three shared axes c, p, q (np.einsum or np.tensordot name the
        #   axes); b (O,) broadcasts over n. Pad with zeros on the two spatial axes only.
        # HINT 4: Pad x once; for each i < OH and j < OW take the kh rows that start at row i*s
        #   and the kw columns that start at column j*s of the padded input, contract that
        #   window with W over channel and kernel axes, add b, store it at [:, :, i, j]; keep
        #   the padded input for backward.
        # DERIVATION:
        #   Forward is the definition, one output position at a time. For a position $(i, j)$
        #   the window $X^{(i,j)}_{n,c,p,q} = \text{xpad}_{n,\,c,\,is+p,\,js+q}$ has shape
        #   $(N, C, k_h, k_w)$, and
        #
        #   $$\text{out}_{n,o,i,j} = b_o + \sum_{c,p,q} W_{o,c,p,q}\, X^{(i,j)}_{n,c,p,q}$$
        #
        #   a contraction of $(N, C, k_h, k_w)$ with $(O, C, k_h, k_w)$ over $c, p, q$: shape
        #   $(N, O)$. $OH \cdot OW$ such contractions fill the output $(N, O, OH, OW)$.
        # MISTAKES:
        #   - A flipped kernel (the mathematicians' convolution): `NaiveConv2d(1, 1, 2) with W =
        #     [[1, 2], [3, 4]], b = 0.5 on x = arange(9) as 3x3 (...): output differs from the
        #     expected values ... worst element [0, 0, 0, 0]: got 13.5, expected 27.5`, then `likely
        #     mistake: the kernel is flipped: this layer computes a cross-correlation, W[o, c, p,
        #     q]`.
        #   - The bias forgotten: `... got 27, expected 27.5`, then `likely mistake: the bias b is
        #     missing`.
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

    def backward_params(self, dout: np.ndarray) -> None:
        """dout ``(N, O, OH, OW)``: sets ``grads["W"]`` (the shape of W) and ``grads["b"]``."""
        # BEGIN SOLUTION
        # HINT 1: Write dL/dW[o, c, p, q] as a sum over every output element of
        #   dout[n, o', i, j] times d out[n, o', i, j] / dW[o, c, p, q]. Which terms are not zero?
        # HINT 2: dL/dW[o, c, p, q] = sum_{n, i, j} dout[n, o, i, j] xpad[n, c, i*s + p, j*s + q];
        #   dL/db[o] = sum_{n, i, j} dout[n, o, i, j].
        # HINT 3: At one position (i, j), g = dout[:, :, i, j] is (N, O) and the window is
        #   (N, C, kh, kw): the contribution to dW (O, C, kh, kw) contracts n.
        # HINT 4: Start dW at zero; for every output position, add to dW the contraction over n
        #   of g with that window. db sums dout over n, i and j.
        # DERIVATION:
        #   Every output element depends on the parameters and the input, so by the chain rule
        #   $\partial L / \partial \theta = \sum_{n,o,i,j} \text{dout}_{n,o,i,j}\,
        #   \partial \text{out}_{n,o,i,j} / \partial \theta$. From the definition,
        #   $\partial \text{out}_{n,o',i,j} / \partial W_{o,c,p,q} = [o' = o]\,
        #   \text{xpad}_{n,c,is+p,js+q}$, hence, with shape $(O, C, k_h, k_w)$:
        #
        #   $$\frac{\partial L}{\partial W_{o,c,p,q}} = \sum_{n,i,j} \text{dout}_{n,o,i,j}\,
        #   \text{xpad}_{n,c,\,is+p,\,js+q}$$
        #
        #   The bias is added to every output of its channel,
        #   $\partial L / \partial b_o = \sum_{n,i,j} \text{dout}_{n,o,i,j}$, shape $(O,)$.
        # MISTAKES:
        #   - The stride forgotten when locating a window in backward: `gradient check failed: dx of
        #     NaiveConv2d(2, 2, kernel_size=(3, 2), stride=2, padding=1) on x of shape (2, 2, 5, 4)
        #     ... also wrong: grads['W']`.
        #   - The bias gradient of one position instead of the sum over the batch and every
        #     position: `gradient check failed: grads['b'] of NaiveConv2d(2, 1, kernel_size=(2, 2),
        #     stride=1, padding=0) on x of shape (1, 2, 3, 3) ... your backward gave 0.12573,
        #     numerical 0.738948`.
        kh, kw = self.kernel_size
        s = self.stride
        W = self.params["W"]
        x_padded = self.x_padded
        dW = np.zeros_like(W)
        _, _, out_height, out_width = dout.shape
        for i in range(out_height):
            for j in range(out_width):
                rows, cols = slice(i * s, i * s + kh), slice(j * s, j * s + kw)
                g = dout[:, :, i, j]  # (N, O)
                dW += np.einsum("no,nchw->ochw", g, x_padded[:, :, rows, cols])
        self.grads["W"] = dW
        self.grads["b"] = dout.sum(axis=(0, 2, 3))
        # END SOLUTION

    def backward_input(self, dout: np.ndarray) -> np.ndarray:
        """dout ``(N, O, OH, OW)`` -> dx ``(N, C, H, W)``."""
        # BEGIN SOLUTION
        # HINT 2: Each output (n, o, i, j) adds dout[n, o, i, j] W[o, c, p, q] to
        #   dL/dxpad[n, c, i*s + p, j*s + q], for every c, p, q.
        # HINT 3: At one position (i, j), the contribution to the window's part of dxpad
        #   (N, C, kh, kw) contracts o of g (N, O) against W. dx is dxpad without the pad rows
        #   and columns on each side: the shape of x.
        # HINT 4: Start dxpad at zero; for every output position, add to the window's slice of
        #   dxpad the contraction over o of g with W (add, never assign: windows overlap).
        #   Return dxpad with the padding cut off.
        # DERIVATION:
        #   For the input, the padded pixel $(n, c, is+p, js+q)$ is read by output $(n, o, i, j)$
        #   with weight $W_{o,c,p,q}$, so
        #
        #   $$\frac{\partial L}{\partial \text{xpad}_{n,c,y,z}} = \sum_{o}
        #   \sum_{\substack{i,p:\; is+p=y \\ j,q:\; js+q=z}} \text{dout}_{n,o,i,j}\,
        #   W_{o,c,p,q}$$
        #
        #   shape $(N, C, H + 2\,\text{pad}, W + 2\,\text{pad})$: looping over the output
        #   positions, each adds $\sum_o g_{n,o} W_{o,c,p,q}$ (shape $(N, C, k_h, k_w)$) onto
        #   its window, and overlapping windows add up. The padding is a constant, so
        #   $\partial L / \partial x$ is that array without its border of width pad, shape
        #   $(N, C, H, W)$. `Layer.backward` calls this only when `needs_input_grad` is True.
        # MISTAKES:
        #   - Assigning (`=`) the window's part of dxpad where windows overlap: `gradient check
        #     failed: dx of NaiveConv2d(2, 1, kernel_size=(2, 2), stride=1, padding=0) on x of shape
        #     (1, 2, 3, 3) ... worst element [0, 1, 2, 1]: your backward gave 0.0483625, numerical
        #     0.262804`.
        #   - The padding not cut off: `backward of NaiveConv2d(2, 2, kernel_size=(3, 2), stride=2,
        #     padding=2) on x of shape (1, 2, 5, 4) returned dx of shape (1, 2, 9, 8), expected (1,
        #     2, 5, 4)`, then `likely mistake: dx has the shape of the padded input: the padding is
        #     not cut off`.
        #   - The padding cut with negative indices: `... returned dx of shape (2, 2, 0, 0),
        #     expected (2, 2, 5, 6)`, then `likely mistake: the padding cut off with negative
        #     indices: a slice ending at -pad is empty when pad = 0 (-0 is 0)`.
        kh, kw = self.kernel_size
        s, pad = self.stride, self.padding
        W = self.params["W"]
        dx_padded = np.zeros_like(self.x_padded)
        _, _, out_height, out_width = dout.shape
        for i in range(out_height):
            for j in range(out_width):
                rows, cols = slice(i * s, i * s + kh), slice(j * s, j * s + kw)
                g = dout[:, :, i, j]  # (N, O)
                dx_padded[:, :, rows, cols] += np.einsum("no,ochw->nchw", g, W)
        padded_height, padded_width = dx_padded.shape[2:]
        return dx_padded[:, :, pad : padded_height - pad, pad : padded_width - pad]
        # END SOLUTION
