"""Judge of the conv_naive exercise: NaiveConv2d (forward and backward with loops).

Forward values come from the brute-force oracle ``tests.oracles.conv2d_oracle`` (loops over
every output element, the formula as written); gradients from ``kata.judge.check_layer``
(central differences of the oracle's forward, so that a wrong forward does not blame a right
backward: ``tests.conv_checks.check_gradients``). The questions this judge shares with the
conv judge's (known values, float32, a strided input, the latest forward, bad inputs) are
asked by ``tests.conv_checks``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given

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

pytestmark = pytest.mark.exercise("conv_naive")

FORWARD_HINT = (
    "no usual mistake matches these numbers: compare with the definition out[n, o, i, j] = "
    "b[o] + sum W[o, c, p, q] * xpad[n, c, i*s + p, j*s + q] (nox -s hint -- conv_naive)"
)


def test_known_values(impl):
    check_known_values(impl.conv_naive.NaiveConv2d)


@given(case=conv_cases())
@example(case=(1, 1, 1, (3, 3), 2, 1, 5, 5))
@example(case=(2, 2, 3, (2, 3), 1, 2, 4, 3))
def test_forward_matches_oracle(impl, case):
    layer, x, call = build(impl.conv_naive.NaiveConv2d, case)
    assert_matches_oracle(layer.forward(x), x, layer, call, hint=FORWARD_HINT)


@given(case=conv_cases(max_extra=3))
@example(case=(2, 2, 2, (3, 2), 2, 1, 5, 4))
@example(case=(1, 2, 1, (2, 2), 1, 0, 3, 3))
def test_gradients(impl, case):
    check_gradients(impl.conv_naive.NaiveConv2d, case)


@pytest.mark.parametrize(
    "case", [(2, 2, 3, (3, 3), 1, 0, 5, 6), (1, 2, 2, (3, 2), 2, 2, 5, 4)], ids=["pad0", "pad2"]
)
def test_backward_returns_dx_of_the_input_shape(impl, case):
    layer, x, call = build(impl.conv_naive.NaiveConv2d, case)
    out = layer.forward(x)
    dx = layer.backward(np.ones_like(out))
    pad = layer.padding
    n, channels, height, width = x.shape
    hint = "dx must have the shape of x, not of the padded input (nox -s hint -- conv_naive)"
    if np.shape(dx) == (n, channels, height + 2 * pad, width + 2 * pad):
        hint = "dx has the shape of the padded input: the padding is not cut off"
    elif np.size(dx) == 0:
        hint = (
            "the padding cut off with negative indices: a slice ending at -pad is empty "
            "when pad = 0 (-0 is 0)"
        )
    assert np.shape(dx) == x.shape, (
        f"backward of {call} returned dx of shape {np.shape(dx)}, expected {x.shape}\n"
        f"likely mistake: {hint}"
    )


def test_float32_stays_float32(impl):
    check_float32_stays_float32(
        impl.conv_naive.NaiveConv2d, (2, 2, 3, (3, 3), 1, 1, 4, 5), hint=FORWARD_HINT
    )


def test_noncontiguous_input_not_mutated(impl):
    check_noncontiguous_input_not_mutated(
        impl.conv_naive.NaiveConv2d, (2, 2, 2, (3, 3), 2, 1, 6, 5), hint=FORWARD_HINT
    )


def test_backward_skips_dx_when_not_needed(impl):
    check_backward_skips_dx_when_not_needed(impl.conv_naive.NaiveConv2d)


def test_backward_uses_the_latest_forward(impl):
    check_backward_uses_the_latest_forward(
        impl.conv_naive.NaiveConv2d,
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
    check_rejects_bad_inputs(NaiveConv2d)
    padded = NaiveConv2d(3, 2, 5, padding=1, dtype=np.float64)
    with pytest.raises(ValueError, match="kernel"):
        padded.forward(np.zeros((1, 3, 2, 9)))  # 2 + 2*1 < 5: no window fits
    assert padded.forward(np.zeros((1, 3, 3, 9))).shape == (1, 2, 1, 7), (
        "NaiveConv2d(3, 2, 5, padding=1) on x of shape (1, 3, 3, 9): 3 + 2*1 = 5 fits one "
        "window; expected output shape (1, 2, 1, 7)"
    )
