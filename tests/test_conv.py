"""Judge of the conv exercise: im2col, col2im and the vectorized Conv2d.

The oracles (``tests.oracles``: loops over every index) never call the code under test, and none
of these tests needs the conv_naive exercise done (only its given constructor). The questions
this judge shares with the conv_naive judge's (known values, float32, a strided input, the
latest forward, bad inputs) are asked by ``tests.conv_checks``. The last test checks the rule
of speed without timing anything: the Python lines the implementation runs must not grow with
the batch or the image."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given

from kata.judge import assert_close, assert_unchanged, noncontiguous
from tests.conv_checks import (
    assert_matches_oracle,
    build,
    check_backward_skips_dx_when_not_needed,
    check_backward_uses_the_latest_forward,
    check_float32_stays_float32,
    check_gradients,
    check_known_values,
    check_noncontiguous_input_not_mutated,
    check_rejects_bad_inputs,
    conv_cases,
)
from tests.oracles import (
    assert_lines_do_not_grow,
    col2im_oracle,
    im2col_oracle,
    matching_mistake,
    output_size,
)

pytestmark = pytest.mark.exercise("conv")


def im2col_call(x_shape, kh, kw, stride, pad) -> str:
    return f"im2col(x of shape {x_shape}, kh={kh}, kw={kw}, stride={stride}, padding={pad})"


# --------------------------------------------------------------------------------- im2col


IM2COL_POINTER = (
    "check the layout cols[(c, p, q), (i, j, n)] = xpad[n, c, i*s + p, j*s + q], shape "
    "(C*kh*kw, OH*OW*N): the order of the axes before the final reshape, the stride of the "
    "slices and the padding on both sides (nox -s hint -- conv)"
)


def batch_first_columns(cols: np.ndarray, x_shape, kh, kw, stride, pad) -> np.ndarray:
    """``cols`` of the layout with its columns reordered to (n, i, j): the batch axis first."""
    n, _, height, width = x_shape
    oh, ow = output_size(height, kh, stride, pad), output_size(width, kw, stride, pad)
    return cols.reshape(len(cols), oh, ow, n).transpose(0, 3, 1, 2).reshape(len(cols), -1)


def im2col_mistake(cols: object, expected: np.ndarray, x_shape, kh, kw, stride, pad) -> str | None:
    """The usual layout mistake that explains a wrong ``cols``, when the numbers show one."""
    if x_shape[0] == 1 or expected.shape[1] == x_shape[0]:
        return None  # one sample, or one output position: both orders agree
    batch_first = batch_first_columns(expected, x_shape, kh, kw, stride, pad)
    return matching_mistake(
        cols,
        [
            (
                batch_first,
                "the columns are in the order (n, i, j), the batch axis first: the layout asks "
                "m = (i*OW + j)*N + n, the batch index fastest",
            )
        ],
    )


@given(case=conv_cases())
@example(case=(2, 2, 1, (3, 2), 2, 1, 5, 6))
def test_im2col_matches_oracle(impl, case):
    n, channels, _, (kh, kw), stride, pad, height, width = case
    x = np.random.default_rng(0).standard_normal((n, channels, height, width))
    before = x.copy()
    cols = impl.conv.im2col(x, kh, kw, stride, pad)
    call = im2col_call(x.shape, kh, kw, stride, pad)
    assert_unchanged(before, x, call=call, what="input x")
    expected = im2col_oracle(x, kh, kw, stride, pad)
    mistake = im2col_mistake(cols, expected, x.shape, kh, kw, stride, pad)
    assert_close(
        cols,
        expected,
        call=call,
        what="cols",
        hint=mistake,
        pointer=None if mistake else IM2COL_POINTER,
    )


def test_im2col_keeps_float32_and_reads_views(impl):
    x = np.random.default_rng(1).standard_normal((2, 3, 5, 4)).astype(np.float32)
    cols = impl.conv.im2col(noncontiguous(x), 3, 2, 1, 1)
    call = im2col_call(x.shape, 3, 2, 1, 1) + " with x a float32 non-contiguous view"
    assert np.asarray(cols).dtype == np.float32, (
        f"{call} returned dtype {np.asarray(cols).dtype}, expected float32 "
        "(likely mistake: an intermediate array created as float64, the default dtype)"
    )
    expected = im2col_oracle(x, 3, 2, 1, 1)
    mistake = im2col_mistake(cols, expected, x.shape, 3, 2, 1, 1)
    assert_close(
        cols,
        expected,
        call=call,
        what="cols",
        rtol=1e-6,
        hint=mistake,
        pointer=None if mistake else IM2COL_POINTER,
    )


# --------------------------------------------------------------------------------- col2im


@given(case=conv_cases())
@example(case=(1, 2, 1, (3, 3), 1, 1, 4, 5))
@example(case=(2, 2, 1, (3, 2), 2, 1, 5, 6))
def test_col2im_is_the_adjoint_of_im2col(impl, case):
    """<im2col(x), c> == <x, col2im(c)> for every x and c: col2im is im2col transposed."""
    n, channels, _, (kh, kw), stride, pad, height, width = case
    rng = np.random.default_rng(2)
    x = rng.standard_normal((n, channels, height, width))
    expected_cols = im2col_oracle(x, kh, kw, stride, pad)
    c = rng.standard_normal(expected_cols.shape)
    before = c.copy()
    dx = impl.conv.col2im(c, x.shape, kh, kw, stride, pad)
    call = (
        f"col2im(cols of shape {c.shape}, x_shape={x.shape}, kh={kh}, kw={kw}, "
        f"stride={stride}, padding={pad})"
    )
    assert_unchanged(before, c, call=call, what="cols")
    assert np.shape(dx) == x.shape, (
        f"{call} returned dx of shape {np.shape(dx)}, expected x_shape = {x.shape}\n"
        f"likely mistake: {padding_crop_hint(np.shape(dx), x.shape, pad)}"
    )
    mistakes = []
    if pad:  # the padded image cut at its corner instead of at the padding
        padded = col2im_oracle(c, x.shape, kh, kw, stride, pad, cropped=False)
        mistakes.append(
            (
                padded[:, :, :height, :width],
                "the padded image cut at the wrong place: the image inside it starts at row and "
                "column padding, not 0",
            )
        )
    if n > 1 and expected_cols.shape[1] > n:  # several samples and positions: the orders differ
        # the columns read in the order (n, i, j): the correct col2im of c with them reordered
        misread = c.reshape(len(c), n, -1).transpose(0, 2, 1).reshape(c.shape)
        batch_first = col2im_oracle(misread, x.shape, kh, kw, stride, pad)
        mistakes.append(
            (
                batch_first,
                "cols read with its columns in the order (n, i, j), the batch axis first: "
                "the layout has m = (i*OW + j)*N + n, the batch index fastest",
            )
        )
    mistake = matching_mistake(dx, mistakes)
    assert_close(
        np.sum(x * dx),
        np.sum(expected_cols * c),
        call=call,
        what="<x, col2im(c)> (it must equal <im2col(x), c> for every x and c)",
        rtol=1e-9,
        hint=mistake,
        pointer=None
        if mistake
        else "col2im is not the adjoint of im2col: every entry of cols must go back to the "
        "pixel it was copied from, summed over the windows that share it, the padding dropped "
        "(nox -s hint -- conv)",
    )


def padding_crop_hint(got_shape, x_shape, pad: int) -> str:
    """Why col2im's dx has the wrong shape, guessed from the shape it has."""
    n, channels, height, width = x_shape
    if tuple(got_shape) == (n, channels, height + 2 * pad, width + 2 * pad):
        return "dx has the shape of the padded input: the padding is not cut off"
    if 0 in tuple(got_shape):
        return (
            "the padding cut off with negative indices: a slice ending at -pad is empty when "
            "pad = 0"
        )
    if tuple(got_shape) == (channels, height, width, n):
        return "dx is the (C, H, W, N) buffer: its batch axis is not brought back first"
    return "compare the axes of dx with x_shape, (N, C, H, W)"


def test_col2im_accumulates_overlapping_windows(impl):
    # 2x2 windows with stride 1 on a 3x3 image: the centre pixel is in all four windows.
    dx = impl.conv.col2im(np.ones((4, 4)), (1, 1, 3, 3), 2, 2, 1, 0)
    assert np.shape(dx) == (1, 1, 3, 3), (
        "col2im(ones((4, 4)), (1, 1, 3, 3), kh=2, kw=2, stride=1, padding=0) returned dx of "
        f"shape {np.shape(dx)}, expected (1, 1, 3, 3)\n"
        f"likely mistake: {padding_crop_hint(np.shape(dx), (1, 1, 3, 3), 0)}"
    )
    assert_close(
        dx,
        [[[[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]]],
        call="col2im(ones((4, 4)), (1, 1, 3, 3), kh=2, kw=2, stride=1, padding=0)",
        what="dx (how many windows cover each pixel)",
        hint="overlapping windows do not add up: assigning (=) where the windows overlap, instead "
        "of adding (+=), keeps only the last window",
    )


def test_col2im_keeps_float32(impl):
    dx = impl.conv.col2im(np.ones((2 * 9, 2 * 4), dtype=np.float32), (2, 2, 4, 4), 3, 3, 1, 0)
    assert np.asarray(dx).dtype == np.float32, (
        "col2im of float32 cols returned dtype "
        f"{np.asarray(dx).dtype}, expected float32 (an intermediate array created as float64?)"
    )


# --------------------------------------------------------------------------------- Conv2d


FORWARD_HINT = (
    "no usual mistake matches these numbers: the output is not the definition's "
    "out[n, o, i, j]; compare the layout of cols and the axes of the product with it "
    "(nox -s hint -- conv)"
)


def test_known_values(impl):
    check_known_values(impl.conv.Conv2d)


@given(case=conv_cases())
@example(case=(3, 2, 3, (2, 3), 2, 2, 5, 4))
def test_forward_matches_oracle(impl, case):
    layer, x, call = build(impl.conv.Conv2d, case)
    assert_matches_oracle(layer.forward(x), x, layer, call, hint=FORWARD_HINT)


@given(case=conv_cases())
@example(case=(2, 2, 3, (3, 2), 2, 1, 6, 5))
@example(case=(2, 3, 2, (3, 3), 1, 0, 5, 5))
def test_gradients(impl, case):
    check_gradients(impl.conv.Conv2d, case)


def test_float32_stays_float32(impl):
    check_float32_stays_float32(impl.conv.Conv2d, (4, 3, 5, (5, 5), 1, 2, 9, 8), hint=FORWARD_HINT)


def test_noncontiguous_input_not_mutated(impl):
    check_noncontiguous_input_not_mutated(
        impl.conv.Conv2d, (2, 2, 3, (3, 3), 2, 1, 7, 6), hint=FORWARD_HINT
    )


def test_backward_skips_dx_when_not_needed(impl):
    check_backward_skips_dx_when_not_needed(impl.conv.Conv2d)


def test_backward_uses_the_latest_forward(impl):
    check_backward_uses_the_latest_forward(
        impl.conv.Conv2d,
        hint="backward must use the cols of the last forward call (keep them in forward)",
    )


def test_rejects_bad_inputs(impl):
    check_rejects_bad_inputs(impl.conv.Conv2d)
    with pytest.raises(ValueError, match="kernel"):
        impl.conv.im2col(np.zeros((1, 1, 2, 2)), 5, 5, 1, 1)  # 2 + 2*1 < 5: no window fits


# --------------------------------------------------------------------------------- speed

SMALL, MORE_SAMPLES, LARGER_IMAGE = (1, 2, 6, 6), (16, 2, 6, 6), (1, 2, 14, 14)
LOOP_HINT = {
    MORE_SAMPLES: "a Python loop over the samples (for n in range(N), or a comprehension "
    "over them)",
    LARGER_IMAGE: "a Python loop over the output positions (for i in range(OH): for j in "
    "range(OW)), such as NaiveConv2d's forward or backward",
}
SPEED_PARTS = ["Conv2d.forward", "Conv2d.backward", "im2col", "col2im"]


def run_part(impl, part: str, shape):
    """A zero-argument call of ``part`` on an input of ``shape`` (the forward is run before)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    if part == "im2col":
        return lambda: impl.conv.im2col(x, 3, 3, 1, 1)
    if part == "col2im":
        cols = rng.standard_normal(im2col_oracle(x, 3, 3, 1, 1).shape)
        return lambda: impl.conv.col2im(cols, shape, 3, 3, 1, 1)
    layer = impl.conv.Conv2d(2, 3, 3, padding=1, dtype=np.float64)
    if part == "Conv2d.forward":
        return lambda: layer.forward(x)
    dout = rng.standard_normal(np.shape(layer.forward(x)))
    return lambda: layer.backward(dout)


@pytest.mark.parametrize("part", SPEED_PARTS)
def test_no_python_loop_over_samples_or_output_positions(impl, part):
    """The lines of Python run must not grow with the batch or the image: no per-sample loop."""
    assert_lines_do_not_grow(
        impl.conv,
        lambda shape: run_part(impl, part, shape),
        SMALL,
        call=f"{part} (3x3 kernel)",
        loop_hints=LOOP_HINT,
        allowed_loop="over the kh*kw kernel positions",
    )
