"""Exercise ``activations``: ReLU, LeakyReLU, Sigmoid and Tanh.

Forward values are compared with element-by-element oracles written here with ``math``;
gradients with the judge's central differences (``check_layer``), on inputs kept away from the
kink of ReLU at 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kata.judge import assert_close, assert_unchanged, check_layer, noncontiguous
from tests.oracles import matching_mistake, no_float_warnings

pytestmark = pytest.mark.exercise("activations")

SHAPES = st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple)
SEEDS = st.integers(0, 2**32 - 1)
LEAKY_SLOPE = 0.1


def _sigmoid(v: float) -> float:
    if v >= 0:
        return 1 / (1 + math.exp(-v))
    return math.exp(v) / (1 + math.exp(v))


@dataclass(frozen=True, repr=False)
class Activation:
    """One activation of the exercise, with its oracles (one scalar at a time)."""

    name: str
    build: Callable[[object], object]  # impl -> a fresh layer
    value: Callable[[float], float]
    derivative: Callable[[float], float]
    derivative_mistake: str

    def __repr__(self) -> str:
        return self.name

    def _repr_pretty_(self, printer, cycle: bool) -> None:  # how hypothesis shows an example
        printer.text(self.name)

    def check_gradient(self, impl, x: np.ndarray, *, call: str, seed: int = 0) -> None:
        """``check_layer`` on a fresh layer; a wrong gradient with no likely mistake named also
        recalls this derivative (not a mutated input, a dtype, a shape: their messages say it)."""
        try:
            check_layer(self.build(impl), x, seed=seed, call=call)
        except AssertionError as error:
            message = str(error)
            if not message.startswith("gradient check failed") or "likely mistake" in message:
                raise
            raise AssertionError(
                f"{error}\nthe derivative of {self.name}: {self.derivative_mistake}"
            ) from None


ACTIVATIONS = [
    Activation(
        "ReLU()",
        lambda impl: impl.activations.ReLU(),
        lambda v: max(v, 0.0),
        lambda v: 1.0 if v > 0 else 0.0,
        "the gradient passes only where the forward input was x > 0: check the mask and that it "
        "comes from the input of forward (nox -s hint -- activations)",
    ),
    Activation(
        f"LeakyReLU({LEAKY_SLOPE})",
        lambda impl: impl.activations.LeakyReLU(LEAKY_SLOPE),
        lambda v: v if v > 0 else LEAKY_SLOPE * v,
        lambda v: 1.0 if v > 0 else LEAKY_SLOPE,
        "dx is not dout times a'(x), on one side of 0 or both: derive a'(x) on each side "
        "(nox -s hint -- activations)",
    ),
    Activation(
        "Sigmoid()",
        lambda impl: impl.activations.Sigmoid(),
        _sigmoid,
        lambda v: _sigmoid(v) * (1 - _sigmoid(v)),
        "dx is not dout times s'(x): derive s'(x) and write it with the output s(x) that "
        "forward kept (nox -s hint -- activations)",
    ),
    Activation(
        "Tanh()",
        lambda impl: impl.activations.Tanh(),
        math.tanh,
        lambda v: 1 - math.tanh(v) ** 2,
        "dx is not dout times tanh'(x): derive it as a function of the output t that forward "
        "kept, and check where the square goes (nox -s hint -- activations)",
    ),
]
BY_NAME = pytest.mark.parametrize("activation", ACTIVATIONS, ids=lambda a: a.name.split("(")[0])


def elementwise(function: Callable[[float], float], x: np.ndarray) -> np.ndarray:
    """The brute-force oracle: ``function`` applied to every element, in float64."""
    return np.array([function(float(v)) for v in x.ravel()]).reshape(x.shape)


def away_from_zero(x: np.ndarray, margin: float = 1e-3) -> np.ndarray:
    """``x`` with every element pushed to |x| >= margin (gradient checks avoid the kink at 0)."""
    return np.where(x >= 0, np.maximum(x, margin), np.minimum(x, -margin))


@BY_NAME
@given(shape=SHAPES, seed=SEEDS)
def test_forward_matches_the_oracle(impl, activation, shape, seed):
    x = np.random.default_rng(seed).normal(0, 3, size=shape)
    out = activation.build(impl).forward(x)
    assert_close(
        out,
        elementwise(activation.value, x),
        call=f"{activation.name}.forward(x) with x of shape {shape}",
        rtol=1e-7,
        atol=1e-12,
    )


@BY_NAME
@given(shape=SHAPES, seed=SEEDS)
def test_gradient_check(impl, activation, shape, seed):
    x = away_from_zero(np.random.default_rng(seed).normal(0, 2, size=shape))
    activation.check_gradient(impl, x, seed=seed, call=f"{activation.name} on x of shape {shape}")


@BY_NAME
def test_gradient_check_on_a_non_contiguous_input(impl, activation):
    x = away_from_zero(np.random.default_rng(1).normal(0, 2, size=(3, 4)))
    activation.check_gradient(
        impl, noncontiguous(x), call=f"{activation.name} on a non-contiguous view x of shape (3, 4)"
    )


@given(slope=st.floats(0.0, 0.9), shape=SHAPES, seed=SEEDS)
def test_leaky_relu_uses_its_slope(impl, slope, shape, seed):
    x = away_from_zero(np.random.default_rng(seed).normal(0, 2, size=shape))
    layer = impl.activations.LeakyReLU(slope)
    call = f"LeakyReLU({slope!r}) on x of shape {shape}"
    assert_close(
        layer.forward(x),
        np.where(x > 0, x, slope * x),
        call=call,
        hint="the output below zero is not scaled by the layer's own slope, self.negative_slope",
    )
    check_layer(layer, x, seed=seed, call=call)


def test_known_values(impl):
    x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    dout = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    cases = [
        ("ReLU()", impl.activations.ReLU(), [0, 0, 0, 0.5, 2], [0, 0, 0, 4, 5]),
        (
            "LeakyReLU(0.1)",
            impl.activations.LeakyReLU(0.1),
            [-0.2, -0.05, 0, 0.5, 2],
            [0.1, 0.2, 0.3, 4, 5],
        ),
        ("LeakyReLU()", impl.activations.LeakyReLU(), [-0.02, -0.005, 0, 0.5, 2], None),
        ("Sigmoid()", impl.activations.Sigmoid(), [_sigmoid(v) for v in x], None),
        ("Tanh()", impl.activations.Tanh(), np.tanh(x), None),
    ]
    for name, layer, expected_out, expected_dx in cases:
        call = f"{name}.forward(x) with x = {x.tolist()}"
        # a fresh copy for each layer: one that mutates its input must not corrupt the next case
        assert_close(layer.forward(x.copy()), np.array(expected_out, dtype=float), call=call)
        if expected_dx is not None:
            dx = layer.backward(dout.copy())
            at_zero = np.array(expected_dx, dtype=float)
            at_zero[x == 0] = dout[x == 0]  # what a mask of x >= 0 gives
            assert_close(
                dx,
                np.array(expected_dx, dtype=float),
                call=f"{name}.backward(dout) with dout = {dout.tolist()} after {call}",
                what="dx",
                # only when dx differs exactly at x = 0, as the mask x >= 0 makes it
                hint=matching_mistake(
                    dx,
                    [
                        (
                            at_zero,
                            "at exactly x = 0 the gradient passed as if x were positive: this "
                            "library takes the derivative there as 0 for ReLU and as "
                            "negative_slope for LeakyReLU",
                        )
                    ],
                ),
            )
    sigmoid = impl.activations.Sigmoid()
    assert sigmoid.forward(np.array([0.0]))[0] == 0.5, "Sigmoid().forward([0.0]) must be 0.5"
    assert_close(
        sigmoid.backward(np.array([1.0])),
        np.array([0.25]),
        call="Sigmoid().backward([1.0]) after forward([0.0])",
        what="dx",
        hint="the slope of the sigmoid at 0 is 0.25 (nox -s hint -- activations)",
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", ["Sigmoid", "Tanh"])
def test_saturating_activations_are_stable_for_huge_inputs(impl, name, dtype):
    x = np.array([-1000.0, -100.0, -30.0, 0.0, 30.0, 100.0, 1000.0], dtype=dtype)
    layer = getattr(impl.activations, name)()
    call = f"{name}().forward(x) with x = {x.tolist()} ({np.dtype(dtype).name})"
    out, dx = no_float_warnings(
        call,
        lambda: (layer.forward(x), layer.backward(np.ones_like(x))),
        hint="exp of a large positive number overflows; "
        + (
            "find a form of s(x) that exponentiates only numbers <= 0 for each sign of x "
            "(nox -s hint -- activations)"
            if name == "Sigmoid"
            else "numpy's own hyperbolic tangent is stable, a formula with exp is not"
        ),
    )
    low = 0.0 if name == "Sigmoid" else -1.0
    expected = elementwise(_sigmoid if name == "Sigmoid" else math.tanh, x.astype(np.float64))
    assert_close(out, expected, call=call, rtol=1e-6, atol=1e-30)
    assert out[0] == low and out[-1] == 1.0, (
        f"{call} returned {out.tolist()}: the ends must be exactly {low} and 1.0"
    )
    assert np.all(np.isfinite(dx)) and dx[0] == 0 and dx[-1] == 0, (
        f"{name}().backward(ones) after {call} returned {dx.tolist()}: the gradient of a "
        "saturated unit is 0, and never nan"
    )


@BY_NAME
def test_float32_stays_float32(impl, activation):
    rng = np.random.default_rng(2)
    x = rng.normal(0, 2, size=(4, 5)).astype(np.float32)
    dout = rng.normal(size=(4, 5)).astype(np.float32)
    layer = activation.build(impl)
    out = layer.forward(x)
    dx = layer.backward(dout)
    call = f"{activation.name} on a float32 x of shape (4, 5)"
    hint = (
        "the dtype follows the input: np.where(x > 0, 1.0, s), np.zeros(shape) or "
        ".astype(float) are float64; a Python float times a float32 array stays float32"
    )
    for what, value in [("forward output", out), ("backward dx", dx)]:
        assert isinstance(value, np.ndarray) and value.dtype == np.float32, (
            f"{call}: the {what} has dtype {getattr(value, 'dtype', type(value))}, "
            f"expected float32\nlikely mistake: {hint}"
        )
    assert_close(out, elementwise(activation.value, x), call=call, rtol=1e-5, atol=1e-6)
    assert_close(
        dx,
        dout * elementwise(activation.derivative, x),
        call=call,
        what="dx",
        rtol=1e-5,
        atol=1e-6,
    )


@BY_NAME
def test_inputs_are_not_mutated(impl, activation):
    rng = np.random.default_rng(3)
    x = rng.normal(0, 2, size=(3, 4))
    dout = rng.normal(size=(3, 4))
    x_before, dout_before = x.copy(), dout.copy()
    layer = activation.build(impl)
    layer.forward(x)
    assert_unchanged(x_before, x, call=f"{activation.name}.forward(x)", what="input x")
    layer.backward(dout)
    assert_unchanged(dout_before, dout, call=f"{activation.name}.backward(dout)", what="dout")
    assert_unchanged(x_before, x, call=f"{activation.name}.backward(dout)", what="input x")


@BY_NAME
def test_non_contiguous_input(impl, activation):
    rng = np.random.default_rng(4)
    x = rng.normal(0, 2, size=(3, 4)).T  # a transposed view, shape (4, 3)
    dout = noncontiguous(rng.normal(size=(4, 3)))
    layer = activation.build(impl)
    call = f"{activation.name} on a transposed view x of shape (4, 3)"
    assert_close(layer.forward(x), elementwise(activation.value, x), call=call)
    assert_close(
        layer.backward(dout),
        dout * elementwise(activation.derivative, x),
        call=call + " and a strided dout",
        what="dx",
        hint=activation.derivative_mistake,
    )


@BY_NAME
def test_backward_uses_the_last_forward(impl, activation):
    rng = np.random.default_rng(5)
    first = away_from_zero(rng.normal(0, 2, size=(2, 3)))
    last = -2 * first  # signs and magnitudes change: a mask or output kept from x1 is wrong
    dout = rng.normal(size=(2, 3))
    layer = activation.build(impl)
    layer.forward(first)
    layer.forward(last)
    dx = layer.backward(dout)
    stale = dout * elementwise(activation.derivative, first)
    assert_close(
        dx,
        dout * elementwise(activation.derivative, last),
        call=f"{activation.name}: forward(x1), forward(x2), then backward(dout)",
        what="dx",
        # only when dx is what a cache kept from the first call gives
        hint=matching_mistake(
            dx, [(stale, "dx is the gradient at x1: backward used what the first forward kept")]
        ),
    )


def test_leaky_relu_validates_negative_slope(impl):
    layer = impl.activations.LeakyReLU(negative_slope=0.2)
    assert_close(
        layer.forward(np.array([-1.0, 2.0])),
        np.array([-0.2, 2.0]),
        call="LeakyReLU(negative_slope=0.2).forward([-1.0, 2.0])",
    )
    for bad in [-0.1, 1.0, 1.5, float("nan"), "0.1", None, True]:
        with pytest.raises(ValueError, match="negative_slope"):
            impl.activations.LeakyReLU(negative_slope=bad)
