"""Trusted helpers shared by several judges: oracles, mistake finders, a probe for loops.

Oracles compute, one index at a time and in float64, what a layer must return: slow, obviously
right, and independent of the code under test (they never call it). :func:`matching_mistake`
and :func:`diagnose_conv_output` tell which usual mistake explains a wrong result;
:func:`no_float_warnings` makes an overflow in the code under test a failure.
:func:`assert_lines_do_not_grow` counts how much Python the code under test runs (with
:func:`kata.sandbox.lines_run`, in the worker where it runs), to tell a vectorized
implementation from one with a Python loop over samples or output positions without timing
anything.

These are plain functions, not tests: they carry no exercise mark.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from kata.sandbox import lines_run


def matching_mistake(got: object, mistakes: list[tuple[np.ndarray, str]]) -> str | None:
    """The description of the first mistake whose predicted result is what came back.

    ``mistakes`` pairs what a mistaken implementation would return (computed by the test) with
    the words that name that mistake; None when no prediction matches ``got``.
    """
    got = np.asarray(got)
    for predicted, mistake in mistakes:
        if got.shape == predicted.shape and np.allclose(got, predicted, rtol=1e-6, atol=1e-9):
            return mistake
    return None


def no_float_warnings(call: str, function: Callable[[], object], *, hint: str) -> object:
    """``function()``, with numpy's overflow, division by zero and invalid values made failures.

    A ``FloatingPointError`` or ``RuntimeWarning`` raised inside becomes an ``AssertionError``
    naming ``call`` and the error, with ``hint`` (the stable formula) as the likely mistake.
    """
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        try:
            return function()
        except (FloatingPointError, RuntimeWarning) as error:
            raise AssertionError(
                f"{call} raised {type(error).__name__}: {error}\nlikely mistake: {hint}"
            ) from None


def output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """Window positions along one axis: ``floor((size + 2*padding - kernel) / stride) + 1``."""
    return (size + 2 * padding - kernel) // stride + 1


def zero_padded(x: np.ndarray, padding: int) -> np.ndarray:
    """``x`` ``(N, C, H, W)`` in float64 with ``padding`` zeros on each of the four sides."""
    n, channels, height, width = x.shape
    out = np.zeros((n, channels, height + 2 * padding, width + 2 * padding))
    out[:, :, padding : padding + height, padding : padding + width] = x
    return out


def conv2d_oracle(
    x: np.ndarray, W: np.ndarray, b: np.ndarray, stride: int, padding: int
) -> np.ndarray:
    """The cross-correlation of the exercises, one output element at a time (float64).

    ``out[n, o, i, j] = b[o] + sum_{c, p, q} W[o, c, p, q] * xpad[n, c, i*s + p, j*s + q]``
    for x ``(N, C, H, W)``, W ``(O, C, kh, kw)``, b ``(O,)``; returns ``(N, O, OH, OW)``.
    """
    n_samples, _, height, width = x.shape
    out_channels, _, kh, kw = W.shape
    xpad = zero_padded(x, padding)
    out_height = output_size(height, kh, stride, padding)
    out_width = output_size(width, kw, stride, padding)
    out = np.zeros((n_samples, out_channels, out_height, out_width))
    for n in range(n_samples):
        for o in range(out_channels):
            for i in range(out_height):
                for j in range(out_width):
                    rows = slice(i * stride, i * stride + kh)
                    columns = slice(j * stride, j * stride + kw)
                    window = xpad[n, :, rows, columns]  # (C, kh, kw), the (c, p, q) of the sum
                    out[n, o, i, j] = b[o] + np.sum(W[o].astype(np.float64) * window)
    return out


def conv2d_by_offsets(
    x: np.ndarray, W: np.ndarray, b: np.ndarray, stride: int, padding: int
) -> np.ndarray:
    """The same cross-correlation as :func:`conv2d_oracle`, summed one kernel offset at a time.

    For each offset ``(p, q)``, the strided slice ``xpad[:, :, p :: s, q :: s]`` (cut to
    ``OH x OW``) holds ``xpad[n, c, i*s + p, j*s + q]`` for every output position, so
    ``out = b + sum_{p, q} sum_c W[o, c, p, q] * slice[n, c, i, j]``: the definition, with the
    sum over ``(p, q)`` outside. Fast enough to be the forward of a gradient check (float64).
    """
    _, _, height, width = x.shape
    out_channels, _, kh, kw = W.shape
    xpad = zero_padded(x, padding)
    oh, ow = output_size(height, kh, stride, padding), output_size(width, kw, stride, padding)
    out = np.zeros((x.shape[0], out_channels, oh, ow)) + np.asarray(b, np.float64)[:, None, None]
    for p in range(kh):
        for q in range(kw):
            window = xpad[:, :, p : p + stride * oh : stride, q : q + stride * ow : stride]
            out += np.einsum("nchw,oc->nohw", window, W[:, :, p, q].astype(np.float64))
    return out


def conv2d_backward_oracle(
    x: np.ndarray, W: np.ndarray, dout: np.ndarray, stride: int, padding: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(dx, dW, db)`` of :func:`conv2d_oracle` for upstream ``dout``, one output at a time.

    Each output ``(n, o, i, j)`` adds ``dout[n, o, i, j] * xpad[n, :, window]`` to ``dW[o]``,
    ``dout[n, o, i, j]`` to ``db[o]`` and ``dout[n, o, i, j] * W[o]`` to ``dxpad[n, :, window]``;
    dx is dxpad without its border of width ``padding`` (float64).
    """
    n_samples, _, height, width = x.shape
    out_channels, _, kh, kw = W.shape
    W = W.astype(np.float64)
    xpad = zero_padded(x, padding)
    dxpad, dW, db = np.zeros_like(xpad), np.zeros_like(W), np.zeros(out_channels)
    for n in range(n_samples):
        for o in range(out_channels):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    rows = slice(i * stride, i * stride + kh)
                    columns = slice(j * stride, j * stride + kw)
                    g = float(dout[n, o, i, j])
                    dW[o] += g * xpad[n, :, rows, columns]
                    db[o] += g
                    dxpad[n, :, rows, columns] += g * W[o]
    dx = dxpad[:, :, padding : padding + height, padding : padding + width]
    return dx, dW, db


def windows_per_pixel(
    x_shape: tuple[int, ...], kh: int, kw: int, stride: int, padding: int
) -> np.ndarray:
    """How many windows read each pixel of x ``(H, W)``: 0, 1, or more where windows overlap."""
    height, width = x_shape[-2:]
    oh, ow = output_size(height, kh, stride, padding), output_size(width, kw, stride, padding)
    count = np.zeros((height + 2 * padding, width + 2 * padding), dtype=int)
    for i in range(oh):
        for j in range(ow):
            count[i * stride : i * stride + kh, j * stride : j * stride + kw] += 1
    return count[padding : padding + height, padding : padding + width]


def _im2col_entries(
    x_shape: tuple[int, ...], kh: int, kw: int, stride: int, padding: int
) -> Iterator[tuple[int, int, int, int, int, int]]:
    """Every entry of im2col's layout, one at a time: ``(row, column, n, c, y, z)``, where
    ``cols[row, column] = xpad[n, c, y, z]``, rows ``(c*kh + p)*kw + q`` and columns
    ``(i*OW + j)*N + n``, shape ``(C*kh*kw, OH*OW*N)``."""
    n_samples, channels, height, width = x_shape
    oh, ow = output_size(height, kh, stride, padding), output_size(width, kw, stride, padding)
    for c in range(channels):
        for p in range(kh):
            for q in range(kw):
                for n in range(n_samples):
                    for i in range(oh):
                        for j in range(ow):
                            row, column = (c * kh + p) * kw + q, (i * ow + j) * n_samples + n
                            yield row, column, n, c, i * stride + p, j * stride + q


def im2col_oracle(x: np.ndarray, kh: int, kw: int, stride: int, padding: int) -> np.ndarray:
    """``cols[(c, p, q), (i, j, n)] = xpad[n, c, i*s + p, j*s + q]``, one entry at a time."""
    n_samples, channels, height, width = x.shape
    xpad = zero_padded(x, padding)
    oh, ow = output_size(height, kh, stride, padding), output_size(width, kw, stride, padding)
    cols = np.zeros((channels * kh * kw, oh * ow * n_samples))
    for row, column, n, c, y, z in _im2col_entries(x.shape, kh, kw, stride, padding):
        cols[row, column] = xpad[n, c, y, z]
    return cols


def col2im_oracle(
    cols: np.ndarray,
    x_shape: tuple[int, ...],
    kh: int,
    kw: int,
    stride: int,
    padding: int,
    *,
    cropped: bool = True,
) -> np.ndarray:
    """The adjoint of :func:`im2col_oracle`: every entry of ``cols`` added onto its pixel
    (onto the padded image when ``cropped`` is False, the padding kept)."""
    n_samples, channels, height, width = x_shape
    dxpad = np.zeros((n_samples, channels, height + 2 * padding, width + 2 * padding))
    for row, column, n, c, y, z in _im2col_entries(x_shape, kh, kw, stride, padding):
        dxpad[n, c, y, z] += cols[row, column]
    if not cropped:
        return dxpad
    return dxpad[:, :, padding : padding + height, padding : padding + width]


def diagnose_conv_output(
    got: np.ndarray,
    expected: np.ndarray,
    x: np.ndarray,
    W: np.ndarray,
    b: np.ndarray,
    stride: int,
    padding: int,
) -> str | None:
    """The usual mistake that explains a wrong convolution output, when the numbers show one.

    ``expected`` is ``conv2d_oracle(x, W, b, stride, padding)``. Tried in order: the wrong
    output shape, a flipped kernel (convolution instead of cross-correlation), a missing bias,
    the product ``(O, OH*OW*N)`` of im2col's layout reshaped instead of transposed, or read
    with its columns batch axis first.
    None when ``got`` is close to ``expected`` or no such explanation fits.
    """
    if np.shape(got) != expected.shape:
        return (
            "OH = floor((H + 2*padding - kh) / stride) + 1: padding on both sides, windows that "
            "do not fit dropped"
        )
    got = np.asarray(got, dtype=np.float64)
    if np.allclose(got, expected, rtol=1e-5, atol=1e-6):
        return None
    close = functools.partial(np.allclose, rtol=1e-4, atol=1e-5)  # float32 outputs too
    if close(got, conv2d_oracle(x, W[:, :, ::-1, ::-1], b, stride, padding)):
        return "the kernel is flipped: this layer computes a cross-correlation, W[o, c, p, q]"
    if close(got, conv2d_oracle(x, W, np.zeros_like(b), stride, padding)):
        return "the bias b is missing"
    n, out_channels, out_height, out_width = expected.shape
    if n == 1:
        return None  # the batch axis can be misplaced only when it has more than one sample
    product = expected.transpose(1, 2, 3, 0)  # out2 of the layout, (O, OH, OW, N)
    if close(got, product.reshape(expected.shape)):
        return (
            "the values are right but in the wrong places: the product (O, OH*OW*N), whose "
            "columns are (i, j, n), reshaped to (N, O, OH, OW) where it must be read as "
            "(O, OH, OW, N) and its batch axis moved first"
        )
    batch_first = product.reshape(out_channels, n, out_height, out_width).transpose(1, 0, 2, 3)
    if out_height * out_width > 1 and close(got, batch_first):
        return (
            "the values are right but in the wrong places: the product's columns read in the "
            "order (n, i, j), the batch axis first, where im2col's layout has them (i, j, n), "
            "the batch index fastest"
        )
    return None


LINE_EVENTS_SLACK = 4
"""How many more lines a bigger input may run: a loop body per sample or window adds far more."""


def assert_lines_do_not_grow(
    module: Any,
    run: Callable[[tuple[int, ...]], Callable[[], object]],
    small: tuple[int, ...],
    *,
    call: str,
    loop_hints: dict[tuple[int, ...], str],
    allowed_loop: str,
) -> None:
    """Fail unless every shape of ``loop_hints`` runs at most a few more lines than ``small``.

    ``run(shape)`` prepares ``call`` on an input of that shape and returns it as a zero-argument
    function, whose lines written in ``module``'s folder :func:`kata.sandbox.lines_run` counts
    (in the worker, where the code under test runs);
    ``loop_hints[shape]`` names the loop that makes the count grow from ``small`` to ``shape``
    (over the samples, over the output positions); ``allowed_loop`` says which loop is fine.
    """
    counts = {shape: lines_run(module, run(shape)) for shape in (small, *loop_hints)}
    for shape, loop in loop_hints.items():
        count = counts[shape]
        assert count <= counts[small] + LINE_EVENTS_SLACK, (
            f"{call} ran {counts[small]} lines of your Python on x of shape {small}, {count} on "
            f"x of shape {shape}\n"
            "vectorized code runs the same lines whatever the batch and the image size\n"
            f"likely mistake: {loop}\n"
            f"the only Python loop allowed: {allowed_loop}, each step a whole-array operation"
        )
