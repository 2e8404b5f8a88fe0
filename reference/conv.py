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
    # BEGIN SOLUTION
    # HINT 1: Fix a kernel position (p, q). Which elements of xpad do all the windows read at
    #   that position, for every n, c, i, j at once?
    # HINT 2: For fixed (p, q) the windows read xpad[n, c, i*s + p, j*s + q] for
    #   0 <= i < OH, 0 <= j < OW: rows p, p + s, ..., p + (OH - 1) s and the same for
    #   columns, a strided slice of shape (N, C, OH, OW).
    # HINT 3: cols viewed as six axes is (C, kh, kw, OH, OW, N): the (c, p, q) and (i, j, n)
    #   row and column orders of the layout are then plain reshapes. The slice of (p, q) must
    #   be (C, OH, OW, N) to land in [:, p, q]: take it from a padded copy of x whose axes are
    #   already in that order, (C, Hp, Wp, N).
    # HINT 4: Move the batch axis of x last, (C, H, W, N), and pad its two spatial axes (only
    #   if padding > 0: one copy does both); allocate the six-axis array with x's dtype; for
    #   each p < kh and q < kw copy the strided slice that starts at (p, q) with step s into
    #   its [:, p, q]; reshape to (C*kh*kw, OH*OW*N).
    # DERIVATION:
    #   The layout asks $\text{cols}_{(c,p,q),(i,j,n)} = \text{xpad}_{n,c,\,is+p,\,js+q}$.
    #   Reading the row and column indices as separate axes, `cols` is a six-axis array
    #   $T_{c,p,q,i,j,n}$ of shape $(C, k_h, k_w, OH, OW, N)$, which flattens to
    #   $(C k_h k_w, OH \cdot OW \cdot N)$ in row-major order exactly as the layout says.
    #   With $P_{c,y,z,n} = \text{xpad}_{n,c,y,z}$, the padded input with its batch axis
    #   moved last, shape $(C, H_p, W_p, N)$, for fixed $(p, q)$ $T_{:,p,q}$ is
    #   $(C, OH, OW, N)$ and
    #
    #   $$T_{c,p,q,i,j,n} = P_{c,\,p + s i,\,q + s j,\,n}$$
    #
    #   a strided slice of $P$ (start $p$, step $s$, $OH$ elements along the height; start
    #   $q$, step $s$, $OW$ along the width; every $c$ and $n$). $k_h k_w$ copies of whole
    #   arrays fill $T$: no loop over $n$, $i$ or $j$. For $s = 1$, $(j, n)$ of one row of the
    #   slice are $OW \cdot N$ consecutive numbers in both $P$ and $T$: each copy moves long
    #   contiguous rows.
    # MISTAKES:
    #   - The batch axis left first, the columns in the order (n, i, j) of the image-major
    #     layout: `im2col(x of shape (2, 2, 5, 6), kh=3, kw=2, stride=2, padding=1): cols
    #     differs from the expected values`, then `likely mistake: the columns are in the order
    #     (n, i, j), the batch axis first: the layout asks m = (i*OW + j)*N + n, the batch index
    #     fastest`.
    #   - The stride left out of the slices, or the axes of the six-axis array in another order
    #     than the layout's: the same first line, then `check the layout cols[(c, p, q), (i, j,
    #     n)] = xpad[n, c, i*s + p, j*s + q], shape (C*kh*kw, OH*OW*N): the order of the axes
    #     before the final reshape, the stride of the slices and the padding on both sides (nox
    #     -s hint -- conv)`.
    # STATED: height + 2 * padding
    n, channels, height, width = x.shape
    out_height = conv_output_size(height, kh, stride, padding)
    out_width = conv_output_size(width, kw, stride, padding)
    x_padded = batch_last = x.transpose(1, 2, 3, 0)  # (C, H, W, N), a view
    if padding:  # (C, Hp, Wp, N): zeros, and x copied once inside the border
        padded_shape = (channels, height + 2 * padding, width + 2 * padding, n)
        x_padded = np.zeros(padded_shape, dtype=x.dtype)
        x_padded[:, padding : padding + height, padding : padding + width] = batch_last
    cols = np.empty((channels, kh, kw, out_height, out_width, n), dtype=x.dtype)
    for p in range(kh):
        for q in range(kw):
            rows = slice(p, p + stride * out_height, stride)
            columns = slice(q, q + stride * out_width, stride)
            cols[:, p, q] = x_padded[:, rows, columns]
    return cols.reshape(channels * kh * kw, out_height * out_width * n)
    # END SOLUTION


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
    # BEGIN SOLUTION
    # HINT 1: im2col copies; its adjoint adds. Start from the pixels one entry of cols came
    #   from, and follow every entry back.
    # HINT 2: dx[n, c, y, z] = sum of cols[(c, p, q), (i, j, n)] over every (p, q, i, j) with
    #   i*s + p - pad = y and j*s + q - pad = z; entries read from the padding reach no pixel.
    # HINT 3: Viewed as (C, kh, kw, OH, OW, N), the part [:, p, q] of cols is (C, OH, OW, N):
    #   it goes back onto the strided slice of kernel position (p, q) of a padded buffer
    #   (C, Hp, Wp, N), the same slice im2col read. Then the border is cut and the batch axis
    #   brought back first.
    # HINT 4: Reshape cols to six axes, start a zero padded buffer batch axis last with cols'
    #   dtype, for each kernel position add (never assign) its part onto its strided slice,
    #   cut pad rows and columns on each side, return it as (N, C, H, W) (a view of the
    #   buffer with its axes moved, no copy needed).
    # DERIVATION:
    #   im2col is linear, $\text{cols} = A\,\text{vec}(x)$, where each row of $A$ picks one
    #   pixel of $x$ (or none, for the padding). Its adjoint is $A^\top$: for
    #   $L = \sum \text{im2col}(x) \odot G$,
    #
    #   $$\frac{\partial L}{\partial x_{n,c,y,z}} = \sum_{\substack{p,i:\; is+p-\text{pad}=y
    #   \\ q,j:\; js+q-\text{pad}=z}} G_{(c,p,q),(i,j,n)}$$
    #
    #   With $G$ read as six axes $(C, k_h, k_w, OH, OW, N)$, the part of each kernel position
    #   $(p, q)$, shape $(C, OH, OW, N)$, is added onto the strided slice it was read from in
    #   a padded buffer $(C, H_p, W_p, N)$. Where windows overlap ($s < k$) a pixel is reached
    #   from several $(p, i)$: the contributions add. Entries from the padding land in the
    #   border, which is then cut: shape $(N, C, H, W)$ after moving the batch axis back
    #   first, a view whose batch axis still varies fastest in memory.
    # STATED: height + 2 * padding
    # MISTAKES:
    #   - Assigning (`=`) instead of adding where windows overlap: `col2im(ones((4, 4)), (1, 1, 3,
    #     3), kh=2, kw=2, stride=1, padding=0): dx (how many windows cover each pixel) differs from
    #     the expected values`, then `likely mistake: overlapping windows do not add up: assigning
    #     (=) where the windows overlap, instead of adding (+=), keeps only the last window`.
    #   - The padding not cut off: `col2im(cols of shape (18, 20), x_shape=(1, 2, 4, 5), kh=3, kw=3,
    #     stride=1, padding=1) returned dx of shape (1, 2, 6, 7), expected x_shape = (1, 2, 4, 5)`,
    #     then `likely mistake: dx has the shape of the padded input: the padding is not cut off`.
    #   - The padded image cut at its corner (`[:H, :W]` of the buffer): `col2im(cols of shape
    #     (18, 20), x_shape=(1, 2, 4, 5), kh=3, kw=3, stride=1, padding=1): <x, col2im(c)> ...
    #     got 19.8123, expected -6.55375`, then `likely mistake: the padded image cut at the
    #     wrong place: the image inside it starts at row and column padding, not 0`.
    #   - The buffer returned with its batch axis still last: `col2im(ones((4, 4)), (1, 1, 3, 3),
    #     kh=2, kw=2, stride=1, padding=0) returned dx of shape (1, 3, 3, 1), expected (1, 1, 3,
    #     3)`, then `likely mistake: dx is the (C, H, W, N) buffer: its batch axis is not brought
    #     back first`.
    #   - cols read as (C, kh, kw, N, OH, OW), its columns in the order (n, i, j): `col2im(cols of
    #     shape (12, 24), x_shape=(2, 2, 5, 6), kh=3, kw=2, stride=2, padding=1): <x, col2im(c)>
    #     (it must equal <im2col(x), c> for every x and c) differs from the expected values`, then
    #     `likely mistake: cols read with its columns in the order (n, i, j), the batch axis first:
    #     the layout has m = (i*OW + j)*N + n, the batch index fastest`.
    n, channels, height, width = x_shape
    out_height = conv_output_size(height, kh, stride, padding)
    out_width = conv_output_size(width, kw, stride, padding)
    cols6 = cols.reshape(channels, kh, kw, out_height, out_width, n)
    padded_shape = (channels, height + 2 * padding, width + 2 * padding, n)
    dx_padded = np.zeros(padded_shape, dtype=cols.dtype)
    for p in range(kh):
        for q in range(kw):
            rows = slice(p, p + stride * out_height, stride)
            columns = slice(q, q + stride * out_width, stride)
            dx_padded[:, rows, columns] += cols6[:, p, q]
    dx = dx_padded[:, padding : padding + height, padding : padding + width]
    return dx.transpose(3, 0, 1, 2)  # (N, C, H, W), batch-last in memory
    # END SOLUTION


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
        # BEGIN SOLUTION
        # HINT 1: Write out2[o, m] for one column m = (i, j, n) of cols: which row of W and
        #   which column of cols does the definition combine?
        # HINT 2: out2[o, m] = b[o] + sum_r W2[o, r] cols[r, m], r = (c, p, q): a matrix product
        #   plus a bias per row.
        # HINT 3: W2 is W viewed as (O, C*kh*kw) (its last three axes in the order of r),
        #   cols is (C*kh*kw, OH*OW*N), out2 is (O, OH*OW*N) = (O, OH, OW, N) viewed; the
        #   output is (N, O, OH, OW): the batch axis moves from last to first, a reshape alone
        #   scrambles the values.
        # HINT 4: Compute cols with im2col, multiply W viewed as a matrix by it, add b as a
        #   column, view the result as (O, OH, OW, N) and move its last axis first (a view, no
        #   copy); keep cols and the shape of x.
        # DERIVATION:
        #   With $r = (c, p, q)$ and $m = (i, j, n)$ flattened as in the layout,
        #   $W2_{o,r} = W_{o,c,p,q}$ (a reshape of $W$ to $(O, C k_h k_w)$) and
        #   $\text{cols}_{r,m} = \text{xpad}_{n,c,is+p,js+q}$, the definition becomes
        #
        #   $$\text{out2}_{o,m} = b_o + \sum_r W2_{o,r}\, \text{cols}_{r,m}$$
        #
        #   a product $(O, C k_h k_w) \times (C k_h k_w, OH \cdot OW \cdot N) \to
        #   (O, OH \cdot OW \cdot N)$, with $b$ broadcast along $m$. Read as
        #   $(O, OH, OW, N)$, it is the output with its batch axis last:
        #   $\text{out}_{n,o,i,j} = \text{out2}_{o,(i,j,n)}$, a transposed view whose batch
        #   axis varies fastest in memory (the order ReLU and pooling keep).
        # MISTAKES:
        #   - A flipped kernel: `Conv2d(1, 1, 2) with W = [[1, 2], [3, 4]], b = 0.5 on x = arange(9)
        #     as 3x3 (...): output differs from the expected values ... got 13.5, expected 27.5`,
        #     then `likely mistake: the kernel is flipped: this layer computes a cross-correlation,
        #     W[o, c, p, q]`.
        #   - The product (O, OH*OW*N) reshaped straight to (N, O, OH, OW): `Conv2d(2, 3,
        #     kernel_size=(2, 3), stride=2, padding=2) on x of shape (3, 2, 5, 4): output differs
        #     from the expected values`, then `likely mistake: the values are right but in the
        #     wrong places: the product (O, OH*OW*N), whose columns are (i, j, n), reshaped to (N,
        #     O, OH, OW) where it must be read as (O, OH, OW, N) and its batch axis moved first`.
        #   - The product read with its columns in the order (n, i, j), the batch axis first, as
        #     (O, N, OH, OW): the same first line, then `likely mistake: the values are right but
        #     in the wrong places: the product's columns read in the order (n, i, j), the batch
        #     axis first, where im2col's layout has them (i, j, n), the batch index fastest`.
        kh, kw = self.kernel_size
        cols = im2col(x, kh, kw, self.stride, self.padding)
        out = self.params["W"].reshape(out_channels, -1) @ cols  # (O, OH*OW*N)
        out += self.params["b"][:, None]
        self.cols, self.x_shape = cols, x.shape
        return out.reshape(out_channels, out_height, out_width, n).transpose(3, 0, 1, 2)
        # END SOLUTION

    def backward_params(self, dout: np.ndarray) -> None:
        """dout ``(N, O, OH, OW)``: sets ``grads["W"]`` (the shape of W) and ``grads["b"]``."""
        # BEGIN SOLUTION
        # HINT 1: Forward is out2 = W2 cols + b: the backward of a matrix product. Write
        #   dout as dout2 (O, M) first, in the same order of axes as out2.
        # HINT 2: dL/dW2[o, r] = sum_m dout2[o, m] cols[r, m]; dL/db[o] = sum_m dout2[o, m].
        # HINT 3: dout (N, O, OH, OW) becomes (O, OH*OW*N) by moving its batch axis last
        #   before the reshape (a view when dout has the memory order of the forward's output);
        #   then dW2 (O, C*kh*kw) is (O, M) times (M, C*kh*kw), viewed back as W's shape.
        # HINT 4: Move dout's batch axis last and flatten it to dout2; grads["W"] is dout2
        #   times the transpose of the kept cols, reshaped to W's shape; grads["b"] sums dout2
        #   along its columns.
        # DERIVATION:
        #   From $\text{out2}_{o,m} = b_o + \sum_r W2_{o,r} \text{cols}_{r,m}$ and
        #   $\text{dout2}_{o,m} = \partial L / \partial \text{out2}_{o,m}$ (shape
        #   $(O, M)$, $M = OH \cdot OW \cdot N$; $\text{dout}$ with its batch axis moved last,
        #   then flattened):
        #
        #   $$\frac{\partial L}{\partial W2_{o,r}} = \sum_m \text{dout2}_{o,m}\,
        #   \text{cols}_{r,m} \;\; (O, C k_h k_w), \qquad
        #   \frac{\partial L}{\partial b_o} = \sum_m \text{dout2}_{o,m} \;\; (O,)$$
        #
        #   The first is $\text{dout2}\,\text{cols}^\top$, reshaped to $(O, C, k_h, k_w)$;
        #   it is computed here as $(\text{cols}\,\text{dout2}^\top)^\top$, the same numbers,
        #   because OpenBLAS runs that shape (a long sum, few outputs) faster.
        #   These are the naive layer's sums, grouped into matrix products.
        # MISTAKES:
        #   - dout reshaped to (O, M) without moving its batch axis last: `gradient check failed:
        #     grads['W'] of Conv2d(2, 3, kernel_size=(3, 2), stride=2, padding=1) on x of shape
        #     (2, 2, 6, 5)`, then `likely mistake: dout2 read from dout (N, O, OH, OW) with its
        #     batch axis still first: dout2[o, m] is then not the gradient of out2[o, m]`.
        #   - dout's channel axis brought first but its batch axis left before the positions,
        #     (O, N, OH, OW): the same first line, then `likely mistake: dout2 built as (O,
        #     N*OH*OW), its columns in the order (n, i, j), where cols has them (i, j, n), the
        #     batch index fastest`.
        #   - The bias gradient not summed over the columns: `gradient check failed: grads['b'] of
        #     Conv2d(2, 3, kernel_size=(3, 2), stride=2, padding=1) on x of shape (2, 2, 6, 5) ...
        #     worst element [2]: your backward gave 0.411631, numerical 8.65455`.
        W = self.params["W"]
        out_channels = W.shape[0]
        dout2 = dout.transpose(1, 2, 3, 0).reshape(out_channels, -1)  # (O, OH*OW*N)
        self.grads["W"] = (self.cols @ dout2.T).T.reshape(W.shape)
        self.grads["b"] = dout2.sum(axis=1)
        # END SOLUTION

    def backward_input(self, dout: np.ndarray) -> np.ndarray:
        """dout ``(N, O, OH, OW)`` -> dx ``(N, C, H, W)``, through col2im."""
        # BEGIN SOLUTION
        # HINT 2: dL/dcols[r, m] = sum_o W2[o, r] dout2[o, m]; dx = col2im(dL/dcols).
        # HINT 3: dcols (C*kh*kw, M) is (C*kh*kw, O) times (O, M): dout2 again, built from
        #   dout the same way as in backward_params.
        # HINT 4: dx is col2im of W2 transposed times dout2, with the kept x shape.
        # DERIVATION:
        #   $$\frac{\partial L}{\partial \text{cols}_{r,m}} = \sum_o W2_{o,r}\,
        #   \text{dout2}_{o,m} \;\; (C k_h k_w, M)$$
        #
        #   that is $W2^\top \text{dout2}$, its columns in the order $(i, j, n)$ of the layout.
        #   Since $\text{cols} = \text{im2col}(x)$ is linear in $x$,
        #   $\partial L / \partial x = \text{col2im}(\partial L / \partial \text{cols})$,
        #   shape $(N, C, H, W)$. `Layer.backward` calls this only when `needs_input_grad`
        #   is True: the first convolution of a network in training skips it.
        # MISTAKES:
        #   - dout reshaped to (O, M) without moving its batch axis last: `gradient check failed:
        #     dx of Conv2d(2, 3, kernel_size=(3, 2), stride=2, padding=1) on x of shape (2, 2, 6,
        #     5)`, then `likely mistake: dout2 read from dout (N, O, OH, OW) with its batch axis
        #     still first: dout2[o, m] is then not the gradient of out2[o, m]`.
        W = self.params["W"]
        kh, kw = self.kernel_size
        dout2 = dout.transpose(1, 2, 3, 0).reshape(len(W), -1)  # (O, OH*OW*N)
        dcols = W.reshape(len(W), -1).T @ dout2  # (C*kh*kw, OH*OW*N)
        return col2im(dcols, self.x_shape, kh, kw, self.stride, self.padding)
        # END SOLUTION
