"""Exercise ``linear``: the affine layer ``out = x @ W + b``.

Forward values are compared with a triple loop written here; gradients with the judge's
central differences (``check_layer``), on float64 layers whose bias is not zero (a zero bias
would hide a bias that is never added).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kata.judge import assert_close, check_layer, noncontiguous
from tests.oracles import matching_mistake

pytestmark = pytest.mark.exercise("linear")

SIZES = st.integers(1, 6)
SEEDS = st.integers(0, 2**32 - 1)


def float64_layer(impl, n_in: int, n_out: int, seed: int):
    """A float64 Linear(n_in, n_out) with random weights and a random, non-zero bias."""
    rng = np.random.default_rng(seed)
    layer = impl.linear.Linear(n_in, n_out, rng=rng, dtype=np.float64)
    layer.params["b"][...] = rng.normal(size=n_out)
    return layer


def loop_oracle(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """out[n, j] = sum_i x[n, i] W[i, j] + b[j], one element at a time."""
    n_samples, n_in = x.shape
    n_out = W.shape[1]
    out = np.zeros((n_samples, n_out))
    for n in range(n_samples):
        for j in range(n_out):
            out[n, j] = sum(x[n, i] * W[i, j] for i in range(n_in)) + b[j]
    return out


@given(n=SIZES, n_in=SIZES, n_out=SIZES, seed=SEEDS)
def test_forward_matches_a_loop(impl, n, n_in, n_out, seed):
    layer = float64_layer(impl, n_in, n_out, seed)
    x = np.random.default_rng(seed + 1).normal(size=(n, n_in))
    out = layer.forward(x)
    assert_close(
        out,
        loop_oracle(x, layer.params["W"], layer.params["b"]),
        call=f"Linear({n_in}, {n_out}).forward(x) with x of shape {x.shape}",
        hint=matching_mistake(
            out, [(x @ layer.params["W"], "the bias is missing: out[n, j] needs + b[j]")]
        ),
    )


@given(n=SIZES, n_in=SIZES, n_out=SIZES, seed=SEEDS)
def test_gradient_check(impl, n, n_in, n_out, seed):
    layer = float64_layer(impl, n_in, n_out, seed)
    x = np.random.default_rng(seed + 1).normal(size=(n, n_in))
    check_layer(layer, x, seed=seed, call=f"Linear({n_in}, {n_out}) on x of shape {x.shape}")


def test_gradient_check_with_a_batch_of_one(impl):
    layer = float64_layer(impl, 4, 3, seed=1)
    x = np.random.default_rng(2).normal(size=(1, 4))
    check_layer(layer, x, call="Linear(4, 3) on x of shape (1, 4)")


def test_gradient_check_when_every_size_is_the_same(impl):
    # N == in_features == out_features: every transposed product has the right shape, so only
    # the values tell dout @ W.T from dout @ W, and x.T @ dout from (dout.T @ x)
    layer = float64_layer(impl, 3, 3, seed=16)
    x = np.random.default_rng(17).normal(size=(3, 3))
    check_layer(layer, x, call="Linear(3, 3) on x of shape (3, 3)")


def test_gradient_check_on_a_non_contiguous_input(impl):
    layer = float64_layer(impl, 3, 5, seed=3)
    x = noncontiguous(np.random.default_rng(4).normal(size=(4, 3)))
    check_layer(layer, x, call="Linear(3, 5) on a non-contiguous view x of shape (4, 3)")


def assert_reads_the_current_parameters(
    layer,
    x: np.ndarray,
    dout: np.ndarray,
    *,
    old: tuple[np.ndarray, np.ndarray],
    call: str,
    stale: str,
) -> None:
    """forward(x) and backward(dout) must use the arrays in layer.params now, not ``old``.

    ``old`` holds the values of W and b before the change; ``stale`` names the mistake shown by
    a result computed from them.
    """
    W, b = layer.params["W"], layer.params["b"]
    old_W, old_b = old
    out = layer.forward(x)
    assert_close(
        out,
        x @ W + b,
        call=call,
        hint=matching_mistake(out, [(x @ old_W + old_b, stale), (x @ old_W + b, stale)]),
    )
    dx = layer.backward(dout)
    hint = matching_mistake(dx, [(dout @ old_W.T, stale)])
    assert_close(dx, dout @ W.T, call=call + " and backward", what="dx", hint=hint)


def test_parameters_updated_in_place_are_used(impl):
    layer = float64_layer(impl, 3, 2, seed=5)
    rng = np.random.default_rng(6)
    x, dout = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    old_W, old_b = layer.params["W"].copy(), layer.params["b"].copy()
    layer.forward(x)
    layer.params["W"] *= 2.0  # what an optimizer does: W -= lr * dW, in place
    layer.params["b"] += 1.0
    assert_reads_the_current_parameters(
        layer,
        x,
        dout,
        old=(old_W, old_b),
        call="Linear(3, 2): params['W'] *= 2 and params['b'] += 1 in place, then forward(x)",
        stale="read self.params['W'] and self.params['b'] on every call, not a copy kept earlier",
    )


def test_parameters_replaced_are_used(impl):
    layer = float64_layer(impl, 3, 2, seed=7)
    rng = np.random.default_rng(8)
    x, dout = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    old_W, old_b = layer.params["W"], layer.params["b"]
    layer.forward(x)
    W, b = rng.normal(size=(3, 2)), rng.normal(size=2)
    layer.params["W"], layer.params["b"] = W, b
    assert_reads_the_current_parameters(
        layer,
        x,
        dout,
        old=(old_W, old_b),
        call="Linear(3, 2): params['W'] and params['b'] replaced by new arrays, then forward(x)",
        stale="read self.params['W'] on every call: an attribute such as self.W set in the "
        "constructor still points to the old array",
    )


def test_float32_stays_float32(impl):
    rng = np.random.default_rng(9)
    layer = impl.linear.Linear(5, 3, rng=rng)  # dtype=np.float32 by default
    layer.params["b"][...] = rng.normal(size=3)
    x = rng.normal(size=(4, 5)).astype(np.float32)
    dout = rng.normal(size=(4, 3)).astype(np.float32)
    out = layer.forward(x)
    dx = layer.backward(dout)
    call = "Linear(5, 3) (float32) on a float32 x of shape (4, 5)"
    results = {
        "output": out,
        "dx": dx,
        "grads['W']": layer.grads.get("W"),
        "grads['b']": layer.grads.get("b"),
    }
    for what, value in results.items():
        assert isinstance(value, np.ndarray) and value.dtype == np.float32, (
            f"{call}: {what} is {getattr(value, 'dtype', type(value).__name__)}, expected a "
            "float32 array\nlikely mistake: the dtype follows the input and the parameters; "
            "np.zeros(shape) or np.ones(...) are float64"
        )
    W, b = layer.params["W"].astype(np.float64), layer.params["b"].astype(np.float64)
    x64, dout64 = x.astype(np.float64), dout.astype(np.float64)
    assert_close(out, x64 @ W + b, call=call, rtol=1e-5, atol=1e-5)
    assert_close(dx, dout64 @ W.T, call=call, what="dx", rtol=1e-5, atol=1e-5)
    assert_close(layer.grads["W"], x64.T @ dout64, call=call, what="grads['W']", atol=1e-5)
    assert_close(layer.grads["b"], dout64.sum(axis=0), call=call, what="grads['b']", atol=1e-5)


def test_backward_skips_dx_when_not_needed(impl):
    layer = float64_layer(impl, 3, 2, seed=14)
    rng = np.random.default_rng(15)
    x, dout = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    layer.forward(x)
    assert isinstance(layer.backward(dout), np.ndarray), "backward must return dx by default"
    layer.set_needs_input_grad(False)
    layer.forward(x)
    dx = layer.backward(dout)
    call = "Linear(3, 2) with needs_input_grad False (the first layer): forward(x), backward(dout)"
    assert dx is None, (
        f"{call} returned {type(dx).__name__}, expected None: Layer.backward (given) skips "
        "backward_input when no one needs dx; write the two halves, backward_params and "
        "backward_input, and leave backward to the base class"
    )
    assert_close(layer.grads.get("W"), x.T @ dout, call=call, what="grads['W']")
    assert_close(layer.grads.get("b"), dout.sum(axis=0), call=call, what="grads['b']")


def test_backward_uses_the_last_forward(impl):
    layer = float64_layer(impl, 3, 2, seed=12)
    rng = np.random.default_rng(13)
    x1, x2, dout = rng.normal(size=(4, 3)), rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    layer.forward(x1)
    layer.forward(x2)
    layer.backward(dout)
    grad_W = layer.grads.get("W")
    stale = "backward used the x of the first forward: keep the input of every forward call"
    assert_close(
        grad_W,
        x2.T @ dout,
        call="Linear(3, 2): forward(x1), forward(x2), backward(dout)",
        what="grads['W']",
        hint=matching_mistake(grad_W, [(x1.T @ dout, stale)]),
    )


def test_backward_sets_the_gradients_of_its_own_call(impl):
    layer = float64_layer(impl, 3, 2, seed=10)
    rng = np.random.default_rng(11)
    x1, x2 = rng.normal(size=(4, 3)), rng.normal(size=(5, 3))
    g1, g2 = rng.normal(size=(4, 2)), rng.normal(size=(5, 2))
    layer.forward(x1)
    layer.backward(g1)
    layer.forward(x2)
    dx = layer.backward(g2)
    call = "Linear(3, 2): forward(x1), backward(g1), forward(x2), backward(g2)"
    added = (
        "the gradients of the calls are added: backward must set grads, not accumulate into "
        "them (nox -s hint -- linear)"
    )
    grad_W = layer.grads.get("W")
    assert_close(
        grad_W,
        x2.T @ g2,
        call=call,
        what="grads['W']",
        hint=matching_mistake(grad_W, [(x1.T @ g1 + x2.T @ g2, added)]),
    )
    grad_b = layer.grads.get("b")
    assert_close(
        grad_b,
        g2.sum(axis=0),
        call=call,
        what="grads['b']",
        hint=matching_mistake(grad_b, [(g1.sum(axis=0) + g2.sum(axis=0), added)]),
    )
    assert_close(dx, g2 @ layer.params["W"].T, call=call, what="dx")


@pytest.mark.parametrize("bad_shape", [(4, 4), (4, 2), (3,), (4, 3, 1), (1, 12)])
def test_wrong_input_shape_is_a_clear_error(impl, bad_shape):
    layer = float64_layer(impl, 3, 2, seed=14)
    good = np.ones((4, 3))
    assert_close(
        layer.forward(good),
        good @ layer.params["W"] + layer.params["b"],
        call="Linear(3, 2).forward(x) with x of shape (4, 3)",
    )
    with pytest.raises(ValueError) as error:
        layer.forward(np.ones(bad_shape))
    message = str(error.value)
    assert "3" in message and str(bad_shape) in message, (
        f"Linear(3, 2).forward(x) with x of shape {bad_shape} raised ValueError({message!r}): "
        f"the message must name the shape expected, (N, 3), and the shape received, {bad_shape}"
    )


def test_constructor_and_forward_with_the_default_initialization(impl):
    layer = impl.linear.Linear(400, 300)
    W, b = layer.params["W"], layer.params["b"]
    assert W.shape == (400, 300) and W.dtype == np.float32, (W.shape, W.dtype)
    assert b.shape == (300,) and b.dtype == np.float32 and not np.any(b), (b.shape, b.dtype)
    std = float(W.std())
    assert abs(std - np.sqrt(1 / 400)) < 0.02 * np.sqrt(1 / 400), (
        f"Linear(400, 300) weights have std {std:.4f}, expected sqrt(1/400) = 0.05"
    )
    assert abs(float(W.mean())) < 0.002, f"Linear(400, 300) weights have mean {W.mean():.4f}"
    assert np.array_equal(W, impl.linear.Linear(400, 300).params["W"]), (
        "Linear(400, 300) twice gave different weights: the default rng is default_rng(0)"
    )
    seeded = impl.linear.Linear(4, 3, rng=np.random.default_rng(1))
    again = impl.linear.Linear(4, 3, rng=np.random.default_rng(1))
    assert np.array_equal(seeded.params["W"], again.params["W"])
    x = np.random.default_rng(15).normal(size=(2, 400)).astype(np.float32)
    assert_close(
        layer.forward(x),
        x.astype(np.float64) @ W.astype(np.float64),
        call="Linear(400, 300).forward(x) with x of shape (2, 400)",
        rtol=1e-4,
        atol=1e-5,
    )


def test_init_argument_sets_the_weights(impl):
    def halves(shape, rng, dtype=np.float32):
        return np.full(shape, 0.5, dtype=dtype)

    layer = impl.linear.Linear(3, 2, init=halves, dtype=np.float64)
    assert np.array_equal(layer.params["W"], np.full((3, 2), 0.5))
    x = np.array([[1.0, 2.0, 3.0]])
    assert_close(
        layer.forward(x),
        np.array([[3.0, 3.0]]),
        call="Linear(3, 2, init=<all 0.5>).forward([[1, 2, 3]])",
    )


@pytest.mark.parametrize(
    ("args", "named"),
    [
        ((0, 3), "in_features"),
        ((3, -1), "out_features"),
        ((2.5, 3), "in_features"),
        ((True, 3), "in_features"),
        ((3, "4"), "out_features"),
    ],
)
def test_constructor_rejects_bad_sizes(impl, args, named):
    layer = impl.linear.Linear(3, 4, dtype=np.float64)
    x = np.ones((2, 3))
    assert_close(layer.forward(x), x @ layer.params["W"], call="Linear(3, 4).forward(ones)")
    with pytest.raises(ValueError, match=named):
        impl.linear.Linear(*args)
