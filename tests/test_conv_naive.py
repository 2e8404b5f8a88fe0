"""Judge of the conv_naive exercise: NaiveConv2d (forward and backward with loops).

Forward values come from the brute-force oracle ``tests.oracles.conv2d_oracle`` (loops over
every output element, the formula as written); gradients from ``kata.judge.check_layer``
(central differences).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from kata.judge import assert_close, assert_unchanged, check_layer, noncontiguous
from tests.oracles import conv2d_oracle, diagnose_conv_output

pytestmark = pytest.mark.exercise("conv_naive")

FORWARD_HINT = (
    "compare with the formula out[n, o, i, j] = b[o] + sum W[o, c, p, q] * "
    "xpad[n, c, i*s + p, j*s + q]: a flipped kernel (convolution instead of "
    "cross-correlation), padding on one side only, a window that ignores the stride, "
    "a missing bias"
)


def assert_matches_oracle(out, x, layer, call: str) -> None:
    """Compare ``out`` with the oracle; on a difference, name the usual mistake it shows."""
    W, b, stride, pad = layer.params["W"], layer.params["b"], layer.stride, layer.padding
    expected = conv2d_oracle(x, W, b, stride, pad)
    hint = diagnose_conv_output(out, expected, x, W, b, stride, pad) or FORWARD_HINT
    assert_close(out, expected, call=call, hint=hint)


@st.composite
def conv_cases(draw, max_batch=3, max_channels=3, max_extra=5):
    """(N, C, O, (kh, kw), stride, padding, H, W) with at least one window, often not tiling."""
    kh = draw(st.integers(1, 5))
    kw = kh if draw(st.booleans()) else draw(st.integers(1, 5))
    pad = draw(st.integers(0, 2))
    height = draw(st.integers(max(1, kh - 2 * pad), max(1, kh - 2 * pad) + max_extra))
    width = draw(st.integers(max(1, kw - 2 * pad), max(1, kw - 2 * pad) + max_extra))
    return (
        draw(st.integers(1, max_batch)),
        draw(st.integers(1, max_channels)),
        draw(st.integers(1, max_channels)),
        (kh, kw),
        draw(st.integers(1, 3)),
        pad,
        height,
        width,
    )


def build(impl, case, dtype=np.float64, seed=0):
    """The layer (with a random nonzero bias), an input x, and a description of the call."""
    n, channels, out_channels, kernel, stride, pad, height, width = case
    rng = np.random.default_rng(seed)
    layer = impl.conv_naive.NaiveConv2d(
        channels, out_channels, kernel, stride, pad, rng=rng, dtype=dtype
    )
    layer.params["b"][...] = rng.standard_normal(out_channels)
    x = rng.standard_normal((n, channels, height, width)).astype(dtype)
    call = (
        f"NaiveConv2d({channels}, {out_channels}, kernel_size={kernel}, stride={stride}, "
        f"padding={pad}) on x of shape {x.shape}"
    )
    return layer, x, call


def test_known_values(impl):
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    layer = impl.conv_naive.NaiveConv2d(1, 1, 2, dtype=np.float64)
    layer.params["W"][...] = [[[[1.0, 2.0], [3.0, 4.0]]]]
    layer.params["b"][...] = 0.5
    call = "NaiveConv2d(1, 1, 2) with W = [[1, 2], [3, 4]], b = 0.5 on x = arange(9) as 3x3"
    assert_close(
        layer.forward(x),
        [[[[27.5, 37.5], [57.5, 67.5]]]],
        call=call,
        hint="27.5 = 0*1 + 1*2 + 3*3 + 4*4 + 0.5; 13.5 would mean a flipped kernel "
        "(convolution instead of cross-correlation)",
    )


@given(case=conv_cases())
@example(case=(1, 1, 1, (3, 3), 2, 1, 5, 5))
@example(case=(2, 2, 3, (2, 3), 1, 2, 4, 3))
def test_forward_matches_oracle(impl, case):
    layer, x, call = build(impl, case)
    assert_matches_oracle(layer.forward(x), x, layer, call)


@given(case=conv_cases(max_extra=3))
@example(case=(2, 2, 2, (3, 2), 2, 1, 5, 4))
@example(case=(1, 2, 1, (2, 2), 1, 0, 3, 3))
def test_gradients(impl, case):
    layer, x, call = build(impl, case)
    check_layer(layer, x, call=call)


@pytest.mark.parametrize(
    "case", [(2, 2, 3, (3, 3), 1, 0, 5, 6), (1, 2, 2, (3, 2), 2, 2, 5, 4)], ids=["pad0", "pad2"]
)
def test_backward_returns_dx_of_the_input_shape(impl, case):
    layer, x, call = build(impl, case)
    out = layer.forward(x)
    dx = layer.backward(np.ones_like(out))
    pad = layer.padding
    n, channels, height, width = x.shape
    hint = "dx has the shape of x: dx_padded with the padding cut off on all four sides"
    if np.shape(dx) == (n, channels, height + 2 * pad, width + 2 * pad):
        hint = "the padding is not cut off: return dx_padded[:, :, pad : pad + H, pad : pad + W]"
    elif np.size(dx) == 0:
        hint = (
            "dx_padded[:, :, pad:-pad, pad:-pad] is empty when pad = 0 (-0 is 0): cut with "
            "pad : pad + H instead"
        )
    assert np.shape(dx) == x.shape, (
        f"backward of {call} returned dx of shape {np.shape(dx)}, expected {x.shape}\n"
        f"likely mistake: {hint}"
    )


def test_float32_stays_float32(impl):
    layer = impl.conv_naive.NaiveConv2d(2, 3, 3, padding=1)
    x = np.random.default_rng(1).standard_normal((2, 2, 4, 5)).astype(np.float32)
    call = "NaiveConv2d(2, 3, 3, padding=1) (float32) on float32 x of shape (2, 2, 4, 5)"
    out = layer.forward(x)
    dx = layer.backward(np.ones_like(out))
    for what, array in [("output", out), ("dx", dx)] + [
        (f"grads[{name!r}]", layer.grads[name]) for name in ("W", "b")
    ]:
        assert np.asarray(array).dtype == np.float32, (
            f"{call}: {what} has dtype {np.asarray(array).dtype}, expected float32 "
            "(likely mistake: an intermediate created as float64, e.g. np.zeros(shape) "
            "without dtype=)"
        )


def test_noncontiguous_input_not_mutated(impl):
    layer, x, call = build(impl, (2, 2, 2, (3, 3), 2, 1, 6, 5))
    view = noncontiguous(x)
    before = view.copy()
    out = layer.forward(view)
    assert_unchanged(before, view, call=f"forward of {call}", what="input x")
    assert_matches_oracle(out, x, layer, f"{call}, x a non-contiguous view")
    dout = np.ones_like(out)
    layer.backward(dout)
    assert_unchanged(before, view, call=f"backward of {call}", what="input x")


def test_backward_uses_the_latest_forward(impl):
    layer, x, call = build(impl, (1, 1, 1, (2, 2), 1, 0, 3, 3))
    layer.forward(x + 10.0)
    out = layer.forward(x)
    layer.backward(np.ones_like(out))
    expected = sum(x[0, 0, p : p + 2, q : q + 2] for p in range(2) for q in range(2))
    assert_close(
        layer.grads["W"][0, 0],
        expected,
        call=f"{call}: forward(x + 10), forward(x), backward(ones)",
        what="grads['W']",
        hint="backward must use the input of the last forward call (cache it in forward)",
    )


BAD_CONSTRUCTIONS = [
    ({"in_channels": 0}, "in_channels"),
    ({"out_channels": -1}, "out_channels"),
    ({"kernel_size": 0}, "kernel_size"),
    ({"kernel_size": (3, 0)}, "kernel_size"),
    ({"stride": 0}, "stride"),
    ({"stride": -2}, "stride"),
    ({"padding": -1}, "padding"),
]


def test_rejects_bad_configurations(impl):
    NaiveConv2d = impl.conv_naive.NaiveConv2d
    settings_ok = {"in_channels": 3, "out_channels": 2, "kernel_size": 3}
    for change, name in BAD_CONSTRUCTIONS:
        with pytest.raises(ValueError, match=name):
            NaiveConv2d(**(settings_ok | change))
    layer = NaiveConv2d(3, 2, 3, dtype=np.float64)
    bad_inputs = [
        ((2, 4, 5, 5), r"expected x of shape \(N, 3, H, W\), got \(2, 4, 5, 5\)"),
        ((3, 5, 5), r"\(N, 3, H, W\)"),
        ((2, 3, 2, 5), "kernel"),
    ]
    for shape, message in bad_inputs:
        with pytest.raises(ValueError, match=message):
            layer.forward(np.zeros(shape))
    padded = NaiveConv2d(3, 2, 5, padding=1, dtype=np.float64)
    with pytest.raises(ValueError, match="kernel"):
        padded.forward(np.zeros((1, 3, 2, 9)))  # 2 + 2*1 < 5: no window fits
    assert padded.forward(np.zeros((1, 3, 3, 9))).shape == (1, 2, 1, 7), (
        "NaiveConv2d(3, 2, 5, padding=1) on x of shape (1, 3, 3, 9): 3 + 2*1 = 5 fits one "
        "window; expected output shape (1, 2, 1, 7)"
    )
