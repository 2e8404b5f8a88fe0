"""Checks shared by the judges of the two convolution exercises, ``conv_naive`` and ``conv``.

``NaiveConv2d`` (loops) and ``Conv2d`` (im2col) take the same settings and must compute the
same thing, so their judges ask the same questions: a value worked out by hand, the output of
the oracle, float32 kept float32, a strided input read and left alone, backward using the
latest forward, a ValueError for an input that does not fit. Each function
takes the layer class (``impl.conv_naive.NaiveConv2d`` or ``impl.conv.Conv2d``): the test files
keep their own test functions, exercise marks and hints, and call these.

These are plain functions, not tests: they carry no exercise mark.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import strategies as st

from kata.judge import assert_close, assert_unchanged, check_layer, noncontiguous
from tests.oracles import (
    conv2d_backward_oracle,
    conv2d_by_offsets,
    conv2d_oracle,
    diagnose_conv_output,
    matching_mistake,
    windows_per_pixel,
)
from toolkit.layer import Layer

Case = tuple[int, int, int, tuple[int, int], int, int, int, int]
"""(N, C, O, (kh, kw), stride, padding, H, W): a batch of N images C x H x W, O filters."""


@st.composite
def conv_cases(draw, max_batch: int = 3, max_channels: int = 3, max_extra: int = 5) -> Case:
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


def build(
    layer_class: type[Layer], case: Case, dtype: type = np.float64, seed: int = 0
) -> tuple[Layer, np.ndarray, str]:
    """The layer (with a random nonzero bias), an input x, and a description of the call."""
    n, channels, out_channels, kernel, stride, pad, height, width = case
    rng = np.random.default_rng(seed)
    layer = layer_class(channels, out_channels, kernel, stride, pad, rng=rng, dtype=dtype)
    layer.params["b"][...] = rng.standard_normal(out_channels)
    x = rng.standard_normal((n, channels, height, width)).astype(dtype)
    call = (
        f"{layer_class.__name__}({channels}, {out_channels}, kernel_size={kernel}, "
        f"stride={stride}, padding={pad}) on x of shape {x.shape}"
    )
    return layer, x, call


def assert_matches_oracle(
    out: object, x: np.ndarray, layer: Layer, call: str, *, hint: str
) -> None:
    """Compare ``out`` with the oracle; on a difference, name the usual mistake it shows.

    ``hint`` is where to look, said when no known mistake (shape, flipped kernel, missing bias)
    explains the difference; it is not shown as a likely mistake.
    """
    W, b, stride, pad = layer.params["W"], layer.params["b"], layer.stride, layer.padding
    expected = conv2d_oracle(x, W, b, stride, pad)
    mistake = diagnose_conv_output(out, expected, x, W, b, stride, pad)
    tolerance = {"rtol": 1e-5, "atol": 1e-5} if x.dtype == np.float32 else {}
    pointer = None if mistake else hint
    assert_close(out, expected, call=call, hint=mistake, pointer=pointer, **tolerance)


class _OracleForward:
    """The learner's layer with the oracle's forward: what ``check_gradients`` differentiates.

    The first ``forward(x)`` also runs the learner's forward (so its backward finds what it
    kept, and ``check_layer`` sees whether it mutates x); every call returns
    :func:`tests.oracles.conv2d_by_offsets` of the layer's current parameters. The numerical
    gradient is then that of the true convolution: a wrong forward cannot make a right
    backward fail, and a wrong backward is measured against the right gradient.
    """

    def __init__(self, layer: Layer) -> None:
        self.layer = layer
        self.learner_forward_ran = False

    @property
    def params(self) -> dict[str, np.ndarray]:
        return self.layer.params

    @property
    def grads(self) -> dict[str, np.ndarray]:
        return self.layer.grads

    def forward(self, x: np.ndarray) -> np.ndarray:
        if not self.learner_forward_ran:
            self.learner_forward_ran = True
            out = self.layer.forward(x)
            if not isinstance(out, np.ndarray):
                return out  # check_layer reports what came back
        W, b = self.layer.params["W"], self.layer.params["b"]
        return conv2d_by_offsets(x, W, b, self.layer.stride, self.layer.padding)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return self.layer.backward(dout)


def check_gradients(layer_class: type[Layer], case: Case) -> None:
    """dx, grads['W'] and grads['b'] against central differences of the oracle's forward.

    On a failure, the message ends with the usual backward mistake the numbers confirm
    (:func:`diagnose_conv_backward`), when one does.
    """
    layer, x, call = build(layer_class, case)
    try:
        check_layer(_OracleForward(layer), x, call=call)
    except AssertionError as failure:
        try:
            mistake = diagnose_conv_backward(layer, x)
        except Exception:  # a backward that raises here gets the check's own message
            mistake = None
        if mistake is None:
            raise
        lines = [line for line in str(failure).splitlines() if not line.startswith("likely")]
        lines.insert(3, f"likely mistake: {mistake}")  # after the worst element
        raise AssertionError("\n".join(lines)) from None


def diagnose_conv_backward(layer: Layer, x: np.ndarray) -> str | None:
    """The usual backward mistake that explains the layer's gradients, when the numbers show one.

    Runs forward(x) and backward(g) for a random g and compares dx, grads['W'] and grads['b']
    with what each mistake gives, computed by :func:`tests.oracles.conv2d_backward_oracle`:
    overlapping windows overwriting each other in dx; dW of one sample only; db averaged over
    the output positions or taken at one position; W2's gradient transposed before the reshape;
    dout flattened to (O, OH*OW*N) without moving its batch axis last, or with its batch axis
    before the positions.
    """
    W, stride, pad = layer.params["W"], layer.stride, layer.padding
    out_channels, _, kh, kw = W.shape
    out = layer.forward(x)
    g = np.random.default_rng(1).standard_normal(np.shape(out))
    dx = np.asarray(layer.backward(g), dtype=np.float64)
    dW = np.asarray(layer.grads.get("W"), dtype=np.float64)
    db = np.asarray(layer.grads.get("b"), dtype=np.float64)
    true_dx, true_dW, true_db = conv2d_backward_oracle(x, W, g, stride, pad)
    n, _, oh, ow = g.shape

    def close(got: np.ndarray, predicted: np.ndarray) -> bool:
        return got.shape == predicted.shape and np.allclose(got, predicted, rtol=1e-6, atol=1e-9)

    if dx.shape == true_dx.shape and not close(dx, true_dx):
        count = np.broadcast_to(windows_per_pixel(x.shape, kh, kw, stride, pad), x.shape)
        wrong = ~np.isclose(dx, true_dx, rtol=1e-6, atol=1e-9)
        if np.all(count[wrong] > 1):
            return (
                f"dx is right at every pixel read by a single window and wrong at "
                f"{np.count_nonzero(wrong)} of the {np.count_nonzero(count > 1)} pixels read by "
                "several overlapping windows: only one window's contribution reached them"
            )
    if out_channels > 1 and W[0].size > 1:
        dW2_transposed = true_dW.reshape(out_channels, -1).T.reshape(W.shape)
        if close(dW, dW2_transposed):
            return (
                "grads['W'] holds the right numbers in the wrong places: the gradient of W2 "
                "built as (C*kh*kw, O), the transpose of W2's shape, then reshaped to W's shape"
            )
    # dout2 (O, OH*OW*N) misread from dout; each g_misread is the upstream gradient the layer
    # then differentiates: g_misread[n, o, i, j] = dout2[o, (i*OW + j)*N + n]
    misreadings = [
        (
            g.reshape(out_channels, oh, ow, n).transpose(3, 0, 1, 2),
            "dout2 read from dout (N, O, OH, OW) with its batch axis still first: "
            "dout2[o, m] is then not the gradient of out2[o, m]",
        ),
        (
            g.transpose(1, 0, 2, 3).reshape(out_channels, oh, ow, n).transpose(3, 0, 1, 2),
            "dout2 built as (O, N*OH*OW), its columns in the order (n, i, j), where cols has "
            "them (i, j, n), the batch index fastest",
        ),
    ]
    for g_misread, mistake in misreadings if n > 1 else []:
        misread = conv2d_backward_oracle(x, W, g_misread, stride, pad)
        truth = (true_dx, true_dW, true_db)
        # a match counts where the misreading changes the result (it permutes dout within each
        # channel for the second one, which leaves db as it is)
        if any(
            close(got, wrong) and not close(wrong, true)
            for got, wrong, true in zip((dx, dW, db), misread, truth, strict=True)
        ):
            return mistake
    if n > 1:
        for sample, which in [(0, "the first sample"), (n - 1, "the last sample")]:
            alone = np.zeros_like(g)
            alone[sample] = g[sample]
            if close(dW, conv2d_backward_oracle(x, W, alone, stride, pad)[1]):
                return (
                    f"grads['W'] holds the contribution of {which} only: W is shared by all "
                    f"N = {n} samples, each of whose outputs depends on it"
                )
    positions = oh * ow
    if positions > 1 and close(db, true_db / positions):
        return (
            f"grads['b'] is the true one divided by OH*OW = {positions}, the number of output "
            "positions: a mean where every output of channel o depends on b[o] with weight 1"
        )
    if positions > 1 and close(db, true_db / (n * positions)):
        return (
            f"grads['b'] is the true one divided by N*OH*OW = {n * positions}: a mean where "
            "every output of channel o depends on b[o] with weight 1"
        )
    for where, (i, j) in [("first", (0, 0)), ("last", (oh - 1, ow - 1))]:
        if positions > 1 and close(db, g[:, :, i, j].sum(axis=0)):
            return (
                f"grads['b'] is the sum of dout at the {where} output position only: b[o] is "
                "added to the outputs of channel o at every position"
            )
    return None


def check_known_values(layer_class: type[Layer]) -> None:
    """One 2x2 filter on arange(9) as a 3x3 image: every output worked out by hand."""
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    layer = layer_class(1, 1, 2, dtype=np.float64)
    layer.params["W"][...] = [[[[1.0, 2.0], [3.0, 4.0]]]]
    layer.params["b"][...] = 0.5
    out = layer.forward(x)
    expected = np.array([[[[27.5, 37.5], [57.5, 67.5]]]])
    W, b = layer.params["W"], layer.params["b"]
    assert_close(
        out,
        expected,
        call=f"{layer_class.__name__}(1, 1, 2) with W = [[1, 2], [3, 4]], b = 0.5 on "
        "x = arange(9) as 3x3 (by the definition, out[0, 0, 0, 0] = 0*1 + 1*2 + 3*3 + 4*4 + 0.5 "
        "= 27.5)",
        # only when the numbers show a known mistake (a flipped kernel, a missing bias)
        hint=diagnose_conv_output(out, expected, x, W, b, 1, 0),
    )


def check_float32_stays_float32(layer_class: type[Layer], case: Case, *, hint: str) -> None:
    """A float32 layer on float32 x: right values, and output, dx, grads all float32."""
    layer, x, call = build(layer_class, case, dtype=np.float32)
    call += " (float32)"
    out = layer.forward(x)
    assert_matches_oracle(out, x, layer, call, hint=hint)
    dx = layer.backward(np.ones_like(out))
    for what, array in [("output", out), ("dx", dx)] + [
        (f"grads[{name!r}]", layer.grads[name]) for name in ("W", "b")
    ]:
        assert np.asarray(array).dtype == np.float32, (
            f"{call}: {what} has dtype {np.asarray(array).dtype}, expected float32 "
            "(likely mistake: an intermediate array created as float64, the default dtype)"
        )


def check_noncontiguous_input_not_mutated(
    layer_class: type[Layer], case: Case, *, hint: str
) -> None:
    """A non-contiguous view as x: the oracle's output, and x unchanged by forward and backward."""
    layer, x, call = build(layer_class, case)
    view = noncontiguous(x)
    before = view.copy()
    out = layer.forward(view)
    assert_unchanged(before, view, call=f"forward of {call}", what="input x")
    assert_matches_oracle(out, x, layer, f"{call}, x a non-contiguous view", hint=hint)
    layer.backward(np.ones_like(out))
    assert_unchanged(before, view, call=f"backward of {call}", what="input x")


def check_backward_uses_the_latest_forward(layer_class: type[Layer], *, hint: str) -> None:
    """forward(x + 10), forward(x), backward(ones): dW must come from x, the latest input.

    One 2x2 filter on one 3x3 image, stride 1, upstream gradient 1:
    ``dW[p, q] = sum_{i, j} x[i + p, j + q]`` over the 2x2 output positions ``(i, j)``.
    """
    layer, x, call = build(layer_class, (1, 1, 1, (2, 2), 1, 0, 3, 3))
    layer.forward(x + 10.0)
    out = layer.forward(x)
    layer.backward(np.ones_like(out))

    def window_sums(image: np.ndarray) -> np.ndarray:
        return sum(image[0, 0, p : p + 2, q : q + 2] for p in range(2) for q in range(2))

    got = np.asarray(layer.grads["W"])
    assert_close(
        got,
        window_sums(x)[None, None],
        call=f"{call}: forward(x + 10), forward(x), backward(ones)",
        what="grads['W']",
        # only when the numbers show the older input was used
        hint=matching_mistake(got, [(window_sums(x + 10.0)[None, None], hint)]),
    )


def check_backward_skips_dx_when_not_needed(layer_class: type[Layer]) -> None:
    """With ``needs_input_grad`` False (the first layer of a network in training), backward
    returns None and sets the same gradients as with it True (the judge's default)."""
    layer, x, call = build(layer_class, (2, 2, 3, (3, 2), 2, 1, 6, 5))
    dout = np.random.default_rng(1).standard_normal(layer.forward(x).shape)
    dx = layer.backward(dout)
    expected = {name: np.array(grad) for name, grad in layer.grads.items()}
    assert isinstance(dx, np.ndarray), f"{call}: backward returned {type(dx).__name__}, not dx"
    layer.set_needs_input_grad(False)
    layer.forward(x)
    dx = layer.backward(dout)
    assert dx is None, (
        f"{call} with needs_input_grad False: backward returned {type(dx).__name__}, expected "
        "None: Layer.backward (given) skips backward_input when no one needs dx; write the "
        "two halves, backward_params and backward_input, and leave backward to the base class"
    )
    for name, grad in expected.items():
        got = layer.grads.get(name)
        assert_close(got, grad, call=f"{call} without dx", what=f"grads[{name!r}]")


def check_rejects_bad_inputs(layer_class: type[Layer]) -> None:
    """x not 4-D, with the wrong channel count, or smaller than the kernel: a ValueError."""
    layer = layer_class(3, 2, 3, dtype=np.float64)
    bad_inputs = [
        ((2, 4, 5, 5), r"expected x of shape \(N, 3, H, W\), got \(2, 4, 5, 5\)"),
        ((3, 5, 5), r"\(N, 3, H, W\)"),
        ((2, 3, 5, 2), "kernel"),
        ((2, 3, 2, 5), "kernel"),
    ]
    for shape, message in bad_inputs:
        with pytest.raises(ValueError, match=message):
            layer.forward(np.zeros(shape))
