"""The trusted numerical gradient judged against derivatives known in closed form."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from toolkit.gradcheck import (
    directional_derivative,
    numerical_gradient,
    numerical_vjp,
    relative_error,
)


def random(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


@given(shape=st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple))
def test_gradient_of_sum_of_squares(shape):
    x = random(*shape)
    numeric = numerical_gradient(lambda: float(np.sum(x**2)), x)
    assert numeric.shape == x.shape
    assert numeric.dtype == np.float64
    assert relative_error(2 * x, numeric) < 1e-8


def test_gradient_of_sum_of_sines():
    x = random(3, 4)
    numeric = numerical_gradient(lambda: float(np.sum(np.sin(x))), x)
    assert relative_error(np.cos(x), numeric) < 1e-8


def test_gradient_at_large_values_divides_by_the_step_actually_taken():
    # Near 1e4, x + 1e-6 is rounded (the spacing of floats there is 1.8e-12): dividing by the
    # nominal 2h would be off by about 1e-6 relative; the measured step makes it exact.
    x = 1e4 + random(5)
    numeric = numerical_gradient(lambda: float(np.sum(3 * (x - 1e4))), x)
    assert np.max(np.abs(numeric - 3)) < 1e-12


def test_vjp_of_a_matrix_product():
    x, weights, upstream = random(2, 3), random(3, 4, seed=1), random(2, 4, seed=2)
    numeric = numerical_vjp(lambda: x @ weights, x, upstream)
    assert relative_error(upstream @ weights.T, numeric) < 1e-8


def test_vjp_of_a_function_returning_a_view_of_x():
    x, upstream = random(2, 3), random(6, seed=1)
    numeric = numerical_vjp(lambda: x.reshape(-1), x, upstream)
    assert relative_error(upstream.reshape(2, 3), numeric) < 1e-8


def test_vjp_from_outputs_evaluated_all_at_once_is_the_same():
    x, weights, upstream = random(2, 3), random(3, 4, seed=1), random(2, 4, seed=2)
    asked = []

    def outputs_at(settings):
        asked.append(len(settings))
        outputs = []
        for index, value in settings:
            original = x[index]
            x[index] = value
            outputs.append(x @ weights)
            x[index] = original
        return outputs

    one_by_one = numerical_vjp(lambda: x @ weights, x, upstream)
    at_once = numerical_vjp(lambda: x @ weights, x, upstream, outputs_at=outputs_at)
    assert asked == [12], "both sides of each of the 6 elements, in one call"
    assert np.array_equal(one_by_one, at_once)


def test_vjp_refuses_an_upstream_of_another_shape():
    x = random(2, 3)
    with pytest.raises(ValueError, match=r"shape \(2, 3\).*\(3, 2\)"):
        numerical_vjp(lambda: np.tanh(x), x, random(3, 2))


def test_directional_derivative_is_the_gradient_along_the_direction():
    x, direction = random(4, 3), random(4, 3, seed=1)
    numeric = directional_derivative(lambda: float(np.sum(np.sin(x))), x, direction)
    exact = float(np.sum(np.cos(x) * direction))
    assert abs(numeric - exact) < 1e-8 * max(1.0, abs(exact))


@pytest.mark.parametrize(
    "check",
    [
        lambda f, x: numerical_gradient(lambda: float(np.sum(f(x))), x),
        lambda f, x: numerical_vjp(lambda: f(x), x, np.ones(x.shape)),
        lambda f, x: directional_derivative(lambda: float(np.sum(f(x))), x, np.ones(x.shape)),
    ],
    ids=["gradient", "vjp", "directional"],
)
def test_the_array_is_restored_exactly(check):
    x = random(3, 8)[:, ::2]  # a strided view is perturbed in place too
    before = x.copy()
    check(np.exp, x)
    assert np.array_equal(x, before)
    assert x.tobytes() == before.tobytes()


def test_the_array_is_restored_when_f_raises():
    x = random(3)
    before = x.copy()
    calls = []

    def explode() -> float:
        calls.append(x.copy())
        if len(calls) == 2:
            raise RuntimeError("boom")
        return 0.0

    with pytest.raises(RuntimeError, match="boom"):
        numerical_gradient(explode, x)
    assert np.array_equal(x, before)
    assert not np.array_equal(calls[0], before), "f must see the perturbed array"


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int64])
def test_non_float64_arrays_are_refused(dtype):
    x = np.ones(3, dtype=dtype)
    name = np.dtype(dtype).name
    with pytest.raises(TypeError, match=name):
        numerical_gradient(lambda: float(np.sum(x)), x)
    with pytest.raises(TypeError, match=name):
        numerical_vjp(lambda: x, x, np.ones(3))
    with pytest.raises(TypeError, match=name):
        directional_derivative(lambda: float(np.sum(x)), x, np.ones(3))


def test_lists_are_refused():
    with pytest.raises(TypeError, match="list"):
        numerical_gradient(lambda: 0.0, [1.0, 2.0])


def test_f_must_return_a_single_number():
    x = random(3)
    with pytest.raises(ValueError, match="single number"):
        numerical_gradient(lambda: x * 2, x)


def test_relative_error():
    a, b = random(3, 2), random(3, 2, seed=1)
    assert relative_error(a, a) == 0.0
    assert relative_error(a, b) == relative_error(b, a)
    assert relative_error(a, -a) == pytest.approx(1.0)
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(np.array([1.0, 1e-9]), np.array([1.0, 2e-9])) < 1e-8
    with pytest.raises(ValueError, match="shapes differ"):
        relative_error(np.zeros(3), np.zeros(4))
