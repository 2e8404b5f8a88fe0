# Generated from reference/conv.py by `nox -s exercises`: this is your file, edit it.
# Replace each `raise NotImplementedError(...)` with your code; `nox` grades it.
"""Exercise conv: the convolution layer made fast with im2col and one matrix product.

``NaiveConv2d`` loops over the ``OH * OW`` output positions. Here every window of the input is
copied once into a column of a matrix (im2col); the whole convolution then becomes one matrix
product, which BLAS computes at full speed, and its backward pass two more products and col2im,
the adjoint of im2col, which adds columns back onto the image.

The layout of ``cols``, the contract of im2col (every test depends on it)::

    cols has shape (C*kh*kw, OH*OW*N)
    row    r = (c, p, q)  flattened: r = (c*kh + p)*kw + q       (the order of W's last 3 axes)
    column m = (i, j, n)  flattened: m = (i*OW + j)*N + n        (the batch index n fastest)
    cols[r, m] = xpad[n, c, i*s + p, j*s + q]

with ``xpad`` the input padded with zeros on all four sides and ``s`` the stride. The batch axis
comes last so that, for stride 1, each kernel position copies rows of ``OW*N`` contiguous
numbers instead of the ``OW`` of an image row: numpy's copies are fast on long rows, and
LeNet-5's images are small. For speed, not for the grade, the layer's output and dx can be
returned as views of the products (no copy back): they then keep that order in memory,
``(N, C, H, W)`` arrays whose batch axis varies fastest, which the layers after it (ReLU,
pooling) keep too. A copy is just as correct: the grader checks values, shapes and dtypes, not
memory order.

The rule of speed, checked by the grader without a clock (it counts the lines of your Python
that run): no Python loop whose number of iterations grows with the batch size or the number
of output positions. A loop over the ``kh*kw`` kernel positions is allowed, each iteration a
whole-array operation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .conv_naive import NaiveConv2d, conv_output_size


def im2col(x: np.ndarray, kh: int, kw: int, stride: int, padding: int) -> np.ndarray:
    """Copy every ``kh x kw`` window of the padded ``x`` into a column.

    Args:
        x: ``(N, C, H, W)``; never modified (it may be a non-contiguous view).
        kh, kw: kernel height and width.
        stride, padding: as in the convolution (padding with zeros on all four sides).

    Returns:
        ``cols`` of shape ``(C*kh*kw, OH*OW*N)`` and the dtype of ``x``, in the layout of the
        module docstring, ``cols[(c, p, q), (i, j, n)] = xpad[n, c, i*s + p, j*s + q]``, with
        OH, OW from ``conv_output_size`` (which raises ValueError when no window fits).

    What the grader checks: ``cols`` against a loop over all six indices on random shapes,
    strides and paddings, float32 kept, a non-contiguous ``x`` read and left alone, the rule of
    speed.
    """
    raise NotImplementedError("conv: implement im2col in exercises/conv.py")


def col2im(
    cols: np.ndarray,
    x_shape: tuple[int, int, int, int],
    kh: int,
    kw: int,
    stride: int,
    padding: int,
) -> np.ndarray:
    """The adjoint of ``im2col``: add every column back onto the window it came from.

    Args:
        cols: ``(C*kh*kw, OH*OW*N)``, in the layout of ``im2col``'s result; never modified.
        x_shape: ``(N, C, H, W)``, the shape of the image to rebuild.

    Returns:
        dx of shape ``x_shape`` and the dtype of ``cols``, the gradient of
        ``sum(im2col(x) * cols)`` with respect to ``x``: for every ``x``,
        ``sum(im2col(x) * cols) == sum(x * col2im(cols))``. Derive what that means for one
        pixel ``dx[n, c, y, z]``: which entries of ``cols`` reach it, and what happens to
        entries that were read from the padding.

    What the grader checks: the adjoint identity above on random shapes, strides and paddings,
    the count of windows covering each pixel when they overlap, the shape of dx, float32 kept,
    the rule of speed.
    """
    raise NotImplementedError("conv: implement col2im in exercises/conv.py")


class Conv2d(NaiveConv2d):
    """2-D convolution (cross-correlation), vectorized: im2col and one matrix product.

    Same constructor, parameters (``W`` ``(O, C, kh, kw)``, ``b`` ``(O,)``), checks, definition
    and contract as ``NaiveConv2d``: ``out[n, o, i, j] = b[o] + sum_{c, p, q} W[o, c, p, q] *
    xpad[n, c, i*s + p, j*s + q]``; ``backward(dout)`` sets ``grads["W"]``, ``grads["b"]`` and
    returns dx. ``forward`` keeps what backward needs (``self.cols``, ``self.x_shape``, declared
    in the constructor). ``backward`` (given, in ``Layer``) calls your ``backward_params(dout)``,
    which sets the two gradients, then ``backward_input(dout)``, which returns dx, only when
    ``needs_input_grad`` is True (the first layer of a network in training skips it).

    To derive. Write ``W2[o, r] = W[o, c, p, q]`` with ``r = (c, p, q)`` flattened as in the
    layout of ``cols``, and ``out2[o, m] = out[n, o, i, j]`` with ``m = (i, j, n)``. Show that
    the definition reads ``out2[o, m] = b[o] + sum_r W2[o, r] cols[r, m]``; then, with
    ``dout2[o, m] = dout[n, o, i, j]``, derive ``dL/dW2``, ``dL/db`` and ``dL/dcols`` in index
    form, and dx from ``dL/dcols`` (col2im is the adjoint of im2col). Watch the order of the
    axes: ``out2`` is read as ``(O, OH, OW, N)``, the channel axis first and the batch axis
    last; the layer's output is ``(N, O, OH, OW)``.

    What the grader checks: the naive layer's checks (a worked example, the oracle, gradients
    against central differences, float32, views, the latest forward, bad inputs), the usual
    layout mistakes named when the numbers show them, and the rule of speed for forward and
    backward.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cols: np.ndarray  # forward keeps im2col(x) here
        self.x_shape: tuple[int, int, int, int]  # and the shape of x

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``(N, C, H, W) -> (N, O, OH, OW)``; keeps ``cols`` and the input shape for backward.

        The first line (given) checks ``x`` and gives the output's shape.
        """
        n, out_channels, out_height, out_width = self.output_shape(x)
        raise NotImplementedError("conv: implement Conv2d.forward in exercises/conv.py")

    def backward_params(self, dout: np.ndarray) -> None:
        """dout ``(N, O, OH, OW)``: sets ``grads["W"]`` (the shape of W) and ``grads["b"]``."""
        raise NotImplementedError("conv: implement Conv2d.backward_params in exercises/conv.py")

    def backward_input(self, dout: np.ndarray) -> np.ndarray:
        """dout ``(N, O, OH, OW)`` -> dx ``(N, C, H, W)``, through col2im."""
        raise NotImplementedError("conv: implement Conv2d.backward_input in exercises/conv.py")
