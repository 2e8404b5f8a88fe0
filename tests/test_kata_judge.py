"""The judge judged: it accepts correct layers and rejects the usual mistakes, naming them.

Each wrong layer below makes one mistake a learner makes; the test checks that the judge
fails it *and* that the message names the tensor and the mistake.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kata.judge import (
    assert_close,
    assert_unchanged,
    check_layer,
    check_loss,
    noncontiguous,
)
from tests.toys import Affine, Tanh
from toolkit.layer import Layer

# ------------------------------------------------------------------------- toy layers
# The correct Affine and Tanh come from tests.toys; each class below plants one mistake in them.


class ToySquaredNorm(Layer):
    """A correct parameterless layer that changes the shape: y[n] = sum_i x[n, i]**2."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return np.sum(x**2, axis=1)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return 2 * self.x * dout[:, None]


class SignFlipped(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.grads["W"] = -self.grads["W"]
        return dx


class BiasKeyMissing(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        del self.grads["b"]
        return dx


class BiasLeftZero(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.grads["b"] = np.zeros_like(self.params["b"])
        return dx


class BiasNotSummed(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.grads["b"] = dout.copy()
        return dx


class BiasSummedOverEverything(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.grads["b"] = dout.sum()
        return dx


class WeightAveraged(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.grads["W"] = self.grads["W"] / dout.shape[0]
        return dx


class WeightDoubled(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.grads["W"] = 2 * self.grads["W"]
        return dx


class WeightTransposed(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.grads["W"] = self.grads["W"].T
        return dx


class WrongTanhDerivative(Tanh):
    def backward(self, dout):
        return dout * (1 - self.out)


class MutatesInput(Tanh):
    def forward(self, x):
        np.tanh(x, out=x)
        self.out = x.copy()
        return self.out


class MutatesUpstream(Tanh):
    def backward(self, dout):
        dout *= 1 - self.out**2
        return dout


class ForgetsToReturn(Tanh):
    def backward(self, dout):
        super().backward(dout)


class Float32Dx(Tanh):
    def backward(self, dout):
        return super().backward(dout).astype(np.float32)


class ToyFlatten(Layer):
    """A correct layer whose output is a view of its input."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout.reshape(self.shape)


class ReadsWeightCopy(Affine):
    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.W = self.params["W"].copy()

    def forward(self, x):
        self.x = x
        return x @ self.W + self.params["b"]


def inputs(*shape: int, seed: int = 2) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def failure(layer: Layer, x: np.ndarray, **kwargs) -> str:
    with pytest.raises(AssertionError) as caught:
        check_layer(layer, x, **kwargs)
    message = str(caught.value)
    assert len(message.splitlines()) <= 8, message
    return message


# ------------------------------------------------------------------------- check_layer


@pytest.mark.parametrize(
    ("layer", "x"),
    [
        (Affine(3, 4), inputs(2, 3)),
        (Tanh(), inputs(3, 5)),
        (ToySquaredNorm(), inputs(4, 3)),
        (ToyFlatten(), inputs(2, 3, 2)),
        (Affine(3, 4), noncontiguous(inputs(5, 3))),
        (Affine(20, 20), inputs(16, 20)),  # W and x above max_elements: directions
    ],
    ids=["linear", "tanh", "parameterless", "view", "strided-input", "directions"],
)
def test_check_layer_accepts_correct_layers(layer, x):
    check_layer(layer, x)


class PlainScale:
    """The layer contract without ``toolkit.layer.Layer``: plain attributes, y = s * x."""

    def __init__(self) -> None:
        self.params = {"s": np.array([1.5])}
        self.grads: dict[str, np.ndarray] = {}

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return self.params["s"] * x

    def backward(self, dout: np.ndarray) -> np.ndarray:
        self.grads["s"] = np.array([np.sum(dout * self.x)])
        return self.params["s"] * dout


class PlainScaleWrongSign(PlainScale):
    def backward(self, dout: np.ndarray) -> np.ndarray:
        dx = super().backward(dout)
        self.grads["s"] = -self.grads["s"]
        return dx


def test_check_layer_judges_any_object_with_the_layer_contract():
    """check_layer takes a LayerLike (a Protocol): what it uses, not the base class."""
    check_layer(PlainScale(), inputs(3, 2))
    with pytest.raises(AssertionError, match=r"grads\['s'\]"):
        check_layer(PlainScaleWrongSign(), inputs(3, 2))


def test_check_layer_leaves_the_callers_array_and_layout_alone():
    x = noncontiguous(inputs(2, 3))
    before = x.copy()
    seen = []

    class Spy(Affine):
        def forward(self, x):
            seen.append(x.flags.c_contiguous)
            return super().forward(x)

    check_layer(Spy(3, 4), x)
    np.testing.assert_array_equal(x, before)
    assert not any(seen), "a strided input must reach the layer strided"


def test_check_layer_refuses_float32_input():
    with pytest.raises(TypeError, match="float32"):
        check_layer(Tanh(), inputs(2, 3).astype(np.float32))


def test_sign_flipped_weight_gradient():
    message = failure(SignFlipped(3, 4), inputs(2, 3), call="Linear(3, 4) on x of shape (2, 3)")
    assert message.splitlines()[0] == (
        "gradient check failed: grads['W'] of Linear(3, 4) on x of shape (2, 3)"
    )
    assert "relative error 1.0e+00 (allowed 1e-06)" in message
    assert "worst element [" in message
    assert "wrong sign" in message


# A mistake: the layer that makes it, the shape of x, and what the judge's message must say.
MISTAKES = {
    "sign flipped, seen along directions": (
        SignFlipped(20, 20),
        (16, 20),
        ["grads['W']", "direction", "wrong sign"],
    ),
    "bias gradient key missing": (
        BiasKeyMissing(3, 4),
        (2, 3),
        ["backward did not fill grads['b']"],
    ),
    "bias gradient left at zero": (BiasLeftZero(3, 4), (2, 3), ["grads['b']", "gradient missing"]),
    "bias gradient not summed over the batch": (
        BiasNotSummed(3, 4),
        (2, 3),
        ["grads['b']", "wrong shape: expected (4,), got (2, 4)", "not summed over the batch"],
    ),
    "bias gradient summed over every axis": (
        BiasSummedOverEverything(3, 4),
        (2, 3),
        ["wrong shape: expected (4,), got ()", "summed over every axis"],
    ),
    "weight gradient divided by the batch size": (
        WeightAveraged(3, 4),
        (4, 3),
        ["grads['W']", "divided by the batch size N = 4"],
    ),
    "weight gradient doubled": (WeightDoubled(3, 4), (3, 3), ["grads['W']", "factor of two"]),
    "square weight gradient transposed": (
        WeightTransposed(3, 3),
        (2, 3),
        ["grads['W']", "transposed"],
    ),
    "rectangular weight gradient transposed": (
        WeightTransposed(3, 4),
        (2, 3),
        ["wrong shape: expected (3, 4), got (4, 3)", "transposed"],
    ),
    "backward mutates the upstream gradient": (
        MutatesUpstream(),
        (2, 3),
        ["mutated its upstream dout"],
    ),
    "float32 dx for a float64 input": (
        Float32Dx(),
        (2, 3),
        ["dx (returned by backward) has dtype float32, expected float64"],
    ),
    "backward without return": (ForgetsToReturn(), (2, 3), ["missing return statement"]),
    "forward reads a copy of the parameters": (
        ReadsWeightCopy(3, 4),
        (2, 3),
        ["grads['W']", "self.params"],
    ),
}


@pytest.mark.parametrize(("layer", "shape", "phrases"), MISTAKES.values(), ids=MISTAKES.keys())
def test_check_layer_names_the_mistake(layer: Layer, shape: tuple[int, ...], phrases: list[str]):
    message = failure(layer, inputs(*shape))
    missing = [phrase for phrase in phrases if phrase not in message]
    assert not missing, f"check_layer failed {layer!r} without saying {missing}:\n{message}"


def test_wrong_input_gradient_shows_the_worst_element():
    message = failure(WrongTanhDerivative(), inputs(2, 3), call="Tanh on x of shape (2, 3)")
    assert message.startswith("gradient check failed: dx of Tanh on x of shape (2, 3)")
    assert "worst element [" in message
    assert "your backward gave" in message
    assert "numerical" in message


def test_forward_that_mutates_its_input():
    x = inputs(2, 3)
    message = failure(MutatesInput(), x)
    assert "mutated its input x" in message
    np.testing.assert_array_equal(x, inputs(2, 3))  # the judge works on a copy


def test_check_layer_refuses_float32_parameters():
    layer = Affine(3, 4)
    layer.params["W"] = layer.params["W"].astype(np.float32)
    with pytest.raises(TypeError, match=r"dtype=np.float64: params\['W'\] is float32"):
        check_layer(layer, inputs(2, 3))


# ------------------------------------------------------------------------- check_loss


class ToyMSELoss:
    def forward(self, prediction, target):
        self.diff = prediction - target
        return float(np.mean(self.diff**2))

    def backward(self):
        return 2 * self.diff / self.diff.size


class ToyCrossEntropy:
    def __init__(self, divide_by_batch: bool = True) -> None:
        self.divide_by_batch = divide_by_batch

    def forward(self, logits, labels):
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        self.probabilities = np.exp(log_probabilities)
        self.labels = labels
        return float(-np.mean(log_probabilities[np.arange(len(labels)), labels]))

    def backward(self):
        grad = self.probabilities.copy()
        grad[np.arange(len(self.labels)), self.labels] -= 1
        return grad / len(self.labels) if self.divide_by_batch else grad


class PerSampleLoss(ToyMSELoss):
    def forward(self, prediction, target):
        super().forward(prediction, target)
        return np.mean(self.diff**2, axis=1)


def test_check_loss_accepts_correct_losses():
    check_loss(ToyMSELoss(), inputs(3, 4), inputs(3, 4, seed=5))
    check_loss(ToyCrossEntropy(), inputs(4, 5), np.array([0, 4, 2, 2]))


def test_check_loss_cross_entropy_not_divided_by_the_batch_size():
    with pytest.raises(AssertionError, match="not divided by the batch size"):
        check_loss(ToyCrossEntropy(divide_by_batch=False), inputs(4, 5), np.array([0, 4, 2, 2]))


def test_check_loss_per_sample_values():
    with pytest.raises(AssertionError, match="expected a single number"):
        check_loss(PerSampleLoss(), inputs(3, 4), inputs(3, 4, seed=5))


# ------------------------------------------------------------------------- assert_close


def test_assert_close_accepts_close_values():
    assert_close(np.ones(3) + 1e-12, np.ones(3), call="f(x)")


def test_assert_close_reports_the_shape_first():
    with pytest.raises(AssertionError, match=r"returned shape \(2, 4\), expected \(2, 3\)"):
        assert_close(np.zeros((2, 4)), np.zeros((2, 3)), call="f(x)")


def test_assert_close_reports_worst_element_count_and_hint():
    expected = np.arange(6.0).reshape(2, 3)
    actual = expected.copy()
    actual[1, 2] += 0.5
    actual[0, 1] += 0.1
    with pytest.raises(AssertionError) as caught:
        assert_close(actual, expected, call="Sigmoid().forward(x)", hint="the usual mistake")
    message = str(caught.value)
    assert message.startswith("Sigmoid().forward(x): output differs")
    assert "2 of 6 elements differ" in message
    assert "worst element [1, 2]: got 5.5, expected 5" in message
    assert "likely mistake: the usual mistake" in message


def test_assert_close_names_overflow():
    with pytest.raises(AssertionError, match="overflow"):
        assert_close(np.array([np.nan, 1.0]), np.array([0.5, 1.0]), call="softmax(x)")


def test_assert_close_names_a_constant_factor():
    with pytest.raises(AssertionError, match="-1 times the expected"):
        assert_close(-np.arange(1.0, 4.0), np.arange(1.0, 4.0), call="f(x)")


# ---------------------------------------------------------------------- assert_unchanged


def test_assert_unchanged():
    x = inputs(2, 3)
    assert_unchanged(x.copy(), x, call="f(x)")
    before = x.copy()
    x[1, 0] = 0.0
    with pytest.raises(AssertionError, match=r"f\(x\) mutated its input") as caught:
        assert_unchanged(before, x, call="f(x)")
    assert "first at [1, 0]" in str(caught.value)


# ------------------------------------------------------------------------- noncontiguous


@given(
    shape=st.lists(st.integers(0, 3), min_size=0, max_size=4).map(tuple),
    dtype=st.sampled_from([np.float64, np.float32, np.int64]),
)
def test_noncontiguous_keeps_values_dtype_and_input(shape, dtype):
    x = np.arange(np.prod(shape, dtype=int)).reshape(shape).astype(dtype)
    before = x.copy()
    view = noncontiguous(x)
    np.testing.assert_array_equal(view, x)
    assert view.dtype == x.dtype
    assert view.shape == x.shape
    assert x.size < 2 or not view.flags.c_contiguous
    view[...] = 0
    np.testing.assert_array_equal(x, before)


def test_a_single_element_shows_no_constant_factor_pattern():
    """Any two numbers have a ratio: "k times the expected one" on one element misleads."""
    with pytest.raises(AssertionError) as single:
        assert_close(np.array([0.3]), np.array([0.7]), call="f(x)")
    assert "times the expected" not in str(single.value)
    with pytest.raises(AssertionError) as several:
        assert_close(np.array([0.3, 0.6]), np.array([0.1, 0.2]), call="f(x)")
    assert "3 times the expected" in str(several.value)
