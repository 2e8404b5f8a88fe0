"""The given layer contract (``toolkit.layer``) and argument checks (``toolkit.checks``).

Given code, not an exercise: these tests carry no exercise mark and judge no learner code.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.toys import Affine, Tanh
from toolkit import checks
from toolkit.layer import Layer, lecun_default

# --------------------------------------------------------------------------- Layer


def test_params_and_grads_are_the_layers_own_dictionaries() -> None:
    layer = Affine(2, 3)
    assert layer.params is layer.params and layer.grads is layer.grads
    replacement = np.zeros((2, 3))
    layer.params["W"] = replacement  # what a test or a user does
    assert layer.params["W"] is replacement
    layer.forward(np.ones((4, 2)))
    layer.backward(np.ones((4, 3)))  # sets self.grads["W"] and ["b"]
    assert sorted(layer.grads) == ["W", "b"]


@pytest.mark.parametrize("name", ["params", "grads", "training", "needs_input_grad"])
def test_the_contract_attributes_are_read_only(name: str) -> None:
    layer = Tanh()
    with pytest.raises(AttributeError):
        setattr(layer, name, {} if name != "training" else False)


def test_train_and_eval_set_the_flag_and_return_the_layer() -> None:
    layer = Layer()
    assert layer.training is True, "a new layer is in training mode"
    assert layer.eval() is layer and layer.training is False
    assert layer.train() is layer and layer.training is True


class Halves(Layer):
    """A layer built on the two halves of ``Layer.backward``, logging which ones run."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[str] = []

    def backward_params(self, dout: np.ndarray) -> None:
        self.log.append("params")
        self.grads["w"] = dout.sum(axis=0)

    def backward_input(self, dout: np.ndarray) -> np.ndarray:
        self.log.append("input")
        return 2 * dout


def test_backward_computes_dx_only_when_the_input_needs_it() -> None:
    layer, dout = Halves(), np.arange(6.0).reshape(2, 3)
    assert layer.needs_input_grad is True, "by default dx is needed (a gradient check checks it)"
    np.testing.assert_array_equal(layer.backward(dout), 2 * dout)
    assert layer.log == ["params", "input"]
    layer.log.clear()
    assert layer.set_needs_input_grad(False) is layer and layer.needs_input_grad is False
    assert layer.backward(dout) is None
    assert layer.log == ["params"], "with needs_input_grad False, backward_input must not run"
    np.testing.assert_array_equal(layer.grads["w"], dout.sum(axis=0))
    layer.set_needs_input_grad(True)
    np.testing.assert_array_equal(layer.backward(dout), 2 * dout)


def test_the_trainer_computes_no_input_gradient_for_the_data() -> None:
    """``fit_epoch`` (given, in ``models``) turns the flag off on the first layer only."""
    import reference.models as models

    recipe = models.two_layer_net(np.random.default_rng(0))
    first, last = recipe.model[0], recipe.model[2]
    calls = {"first": 0, "last": 0}

    def counting(layer: Layer, key: str) -> None:
        original = layer.backward_input

        def backward_input(dout: np.ndarray) -> np.ndarray:
            calls[key] += 1
            return original(dout)

        layer.backward_input = backward_input

    counting(first, "first")
    counting(last, "last")
    rng = np.random.default_rng(1)
    images = rng.random((2 * recipe.batch_size, 1, 28, 28), dtype=np.float32)
    labels = rng.integers(0, 10, size=len(images))
    models.fit_epoch(recipe, images, labels, rng)
    assert not first.needs_input_grad and last.needs_input_grad
    assert calls == {"first": 0, "last": 2}, (
        f"backward_input ran {calls} times in two steps: the first layer's input is the data"
    )


def test_an_unwritten_layer_says_which_method_is_missing() -> None:
    with pytest.raises(NotImplementedError, match=r"Layer\.forward"):
        Layer().forward(np.zeros(2))
    with pytest.raises(NotImplementedError, match=r"Layer\.backward"):
        Layer().backward(np.zeros(2))


# --------------------------------------------------------------------------- lecun_default


@pytest.mark.parametrize(
    ("shape", "fan_in"),
    [((400, 300), 400), ((16, 6, 5, 5), 150)],
    ids=["dense", "convolution"],
)
def test_lecun_default_has_variance_one_over_fan_in(shape: tuple[int, ...], fan_in: int) -> None:
    weights = lecun_default(shape, np.random.default_rng(0), np.float64)
    assert weights.shape == shape and weights.dtype == np.float64
    # 120,000 and 2,400 draws: the sample variance is within 3 % and 15 % of 1 / fan_in.
    tolerance = 0.03 if weights.size > 10_000 else 0.15
    assert abs(weights.var() * fan_in - 1) < tolerance, f"variance {weights.var()}"
    assert abs(weights.mean()) < 3 / np.sqrt(fan_in * weights.size)


def test_lecun_default_draws_from_the_generator_given() -> None:
    first = lecun_default((3, 4), np.random.default_rng(7))
    again = lecun_default((3, 4), np.random.default_rng(7))
    assert first.dtype == np.float32
    np.testing.assert_array_equal(first, again)


# --------------------------------------------------------------------------- checks


@pytest.mark.parametrize(
    ("check", "good", "converted"),
    [
        (checks.positive_int, np.int64(3), 3),
        (checks.non_negative_int, 0, 0),
        (checks.positive, 1e-3, 1e-3),
        (checks.non_negative, 0, 0.0),
        (checks.fraction, 0.9, 0.9),
    ],
    ids=["positive_int", "non_negative_int", "positive", "non_negative", "fraction"],
)
def test_a_check_returns_the_value_as_a_plain_number(check, good, converted) -> None:
    result = check("arg", good)
    assert result == converted and type(result) is type(converted)


@pytest.mark.parametrize(
    ("check", "bad", "expected"),
    [
        (checks.positive_int, 0, "a positive integer"),
        (checks.positive_int, 2.0, "a positive integer"),
        (checks.positive_int, True, "a positive integer"),
        (checks.non_negative_int, -1, "an integer >= 0"),
        (checks.positive, 0.0, "> 0"),
        (checks.positive, float("nan"), "> 0"),
        (checks.non_negative, -0.1, ">= 0"),
        (checks.non_negative, "0", ">= 0"),
        (checks.fraction, 1.0, "in [0, 1)"),
        (checks.fraction, False, "in [0, 1)"),
    ],
)
def test_a_refused_value_names_the_argument_the_expectation_and_the_value(
    check, bad, expected
) -> None:
    with pytest.raises(ValueError) as error:
        check("momentum", bad)
    message = str(error.value)
    assert message.startswith("momentum must be") and expected in message, message
    assert message.endswith(f"got {bad!r}"), message


def test_floating_dtype() -> None:
    assert checks.floating_dtype("dtype", "float32") == np.float32
    for bad in (np.int64, "not a dtype"):
        with pytest.raises(ValueError, match="dtype must be a floating-point dtype"):
            checks.floating_dtype("dtype", bad)


def test_shape_accepts_free_axes_and_names_both_shapes() -> None:
    assert checks.shape("x", np.zeros((5, 3)), ("N", 3)) == (5, 3)
    with pytest.raises(ValueError) as error:
        checks.shape("x", np.zeros((5, 4)), ("N", 3), where="Linear(3, 2)")
    assert str(error.value) == "Linear(3, 2) expects x of shape (N, 3), got (5, 4)"
    with pytest.raises(ValueError, match=r"expected x of shape \(N, C, H, W\), got \(2, 3\)"):
        checks.shape("x", np.zeros((2, 3)), ("N", "C", "H", "W"))
