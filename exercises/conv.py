# Generated from reference/conv.py by `nox -s exercises`: this is your file, edit it.
# Replace each `raise NotImplementedError(...)` with your code; `nox` grades it.
"""Exercise conv: the convolution layer made fast with im2col and one matrix product.

``NaiveConv2d`` loops over the ``OH * OW`` output positions. Here every window of the input is
copied once into a column of a matrix (im2col); the whole convolution is then one matrix product,
which BLAS computes at full speed. The backward pass is two more matrix products and col2im, the
adjoint of im2col, which adds the columns back onto the image.

The layout of ``cols`` (chosen so that every reshape below is free)::

    cols has shape (C*kh*kw, N*OH*OW)
    row    r = (c, p, q)  flattened: r = (c*kh + p)*kw + q       (matches W.reshape(O, C*kh*kw))
    column m = (n, i, j)  flattened: m = (n*OH + i)*OW + j
    cols[r, m] = xpad[n, c, i*s + p, j*s + q]

so ``W.reshape(O, -1) @ cols`` is ``(O, N*OH*OW)``: the output with its channel axis first.

The kernel-position trick: for a fixed kernel position (p, q), the inputs seen by all windows
form one strided slice, ``xpad[:, :, p : p + s*OH : s, q : q + s*OW : s]`` of shape
``(N, C, OH, OW)``. im2col copies ``kh*kw`` such slices; col2im adds them back. A loop over the
kernel positions is fine (25 iterations for 5x5); a Python loop over samples or output positions
is what makes a convolution slow.
"""

from __future__ import annotations

import numpy as np

from .conv_naive import NaiveConv2d, conv_output_size


def im2col(x: np.ndarray, kh: int, kw: int, stride: int, padding: int) -> np.ndarray:
    """Copy every ``kh x kw`` window of the padded ``x`` into a column.

    Args:
        x: ``(N, C, H, W)``; never modified.
        kh, kw: kernel height and width.
        stride, padding: as in the convolution (padding with zeros on all four sides).

    Returns:
        ``cols`` of shape ``(C*kh*kw, N*OH*OW)`` with
        ``cols[(c, p, q), (n, i, j)] = xpad[n, c, i*s + p, j*s + q]`` (see the module docstring),
        with OH, OW from ``conv_output_size`` (which raises ValueError when no window fits).

    Hint: pad ``x.transpose(1, 0, 2, 3)`` (channels first, ``(C, N, Hp, Wp)``), fill
    ``cols6 = np.empty((C, kh, kw, N, OH, OW))`` with ``cols6[:, p, q] = <slice of (p, q)>`` for
    each kernel position, and reshape it to 2-D (free: it is contiguous).

    Usual mistake: ``range(0, H - kh)`` (one window short) or forgetting the stride in the slice.
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
        cols: ``(C*kh*kw, N*OH*OW)``, the layout of ``im2col``'s result.
        x_shape: ``(N, C, H, W)``, the shape of the image to rebuild.

    Returns:
        dx of shape ``x_shape``: ``dx[n, c, y, z]`` is the sum of ``cols[(c, p, q), (n, i, j)]``
        over every (p, q, i, j) with ``i*s + p - pad = y`` and ``j*s + q - pad = z``, i.e. the
        gradient of ``sum(im2col(x) * cols)`` with respect to x. Entries that fell in the padding
        are dropped.

    Where windows overlap (stride < kernel) an input pixel sits in several columns: its
    gradient is the *sum* of them. Usual mistake: ``=`` instead of ``+=``, which keeps only the
    last window; ``np.add.at`` is right but slow.

    Hint: the mirror image of im2col: ``dx_padded[:, :, <slice of (p, q)>] += cols6[:, p, q]``
    in a ``(C, N, Hp, Wp)`` buffer, then cut the padding and transpose back to ``(N, C, H, W)``.
    """
    raise NotImplementedError("conv: implement col2im in exercises/conv.py")


class Conv2d(NaiveConv2d):
    """2-D convolution (cross-correlation), vectorized: im2col and one matrix product.

    Same constructor, parameters (``W`` ``(O, C, kh, kw)``, ``b`` ``(O,)``), checks and results
    as ``NaiveConv2d``; only ``forward`` and ``backward`` are rewritten. With
    ``cols = im2col(x)`` ``(C*kh*kw, M)``, ``M = N*OH*OW``, and ``W2 = W.reshape(O, C*kh*kw)``::

        forward:   out2 = W2 @ cols + b[:, None]              (O, M)  -> (N, O, OH, OW)
        backward:  dout2 = dout as (O, M)  (channel axis first, like out2)
                   dW = (dout2 @ cols.T).reshape(W.shape)     (O, C*kh*kw)
                   db = dout2.sum(axis=1)                     (O,)
                   dx = col2im(W2.T @ dout2, x.shape, ...)    (C*kh*kw, M) -> (N, C, H, W)

    ``out2.reshape(O, N, OH, OW).transpose(1, 0, 2, 3)`` is the output, a view: no copy.

    Usual mistakes: ``reshape`` where a ``transpose`` is needed (the numbers land in the wrong
    places with the right shape: ``out2.reshape(N, O, OH, OW)`` is wrong); forgetting to keep
    ``cols`` for backward (recomputing it costs a second im2col).

    Rule of speed: no Python loop over samples or output positions; the only loops are the
    ``kh*kw`` kernel positions inside im2col and col2im.
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``(N, C, H, W) -> (N, O, OH, OW)``; keeps ``cols`` and the input shape for backward.

        Start with ``self.output_shape(x)`` (it checks x).
        """
        raise NotImplementedError("conv: implement Conv2d.forward in exercises/conv.py")

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dout ``(N, O, OH, OW)`` -> dx ``(N, C, H, W)``; fills ``grads["W"]``, ``grads["b"]``."""
        raise NotImplementedError("conv: implement Conv2d.backward in exercises/conv.py")
