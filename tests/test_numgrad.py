"""Exercise ``numerical_gradient``: central differences, judged against derivatives known on paper.

The judge's own gradient (``toolkit.gradcheck``) is never used here: every expected value is
an analytic derivative, so the learner's tool is checked independently of the tool that checks
everything else.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kata.judge import assert_close, assert_unchanged, noncontiguous

pytestmark = pytest.mark.exercise("numerical_gradient")

SHAPES = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)
ND_SHAPES = st.lists(st.integers(2, 4), min_size=2, max_size=3).map(tuple)
SEEDS = st.integers(0, 2**32 - 1)
DEFAULT_H = 1e-5


def check_gradient(
    impl,
    f: Callable[[np.ndarray], float],
    x: np.ndarray,
    *,
    expected: np.ndarray,
    curvature: np.ndarray,
    call: str,
    h: float | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    hint: str | None = None,
) -> None:
    """Run the learner's numerical_gradient(f, x[, h]) and compare it with ``expected``.

    ``curvature`` is d²f/dx_i² for every i: it predicts what the usual mistakes return (a
    one-sided difference is off by about ``h/2 * curvature``), so the message can name them.
    """
    step = DEFAULT_H if h is None else h
    grad = (
        impl.numgrad.numerical_gradient(f, x)
        if h is None
        else impl.numgrad.numerical_gradient(f, x, h=h)
    )
    if not isinstance(grad, np.ndarray):
        raise AssertionError(
            f"{call} returned {type(grad).__name__}, expected a float64 array of shape {x.shape}"
        )
    if grad.shape != x.shape or grad.dtype != np.float64:
        raise AssertionError(
            f"{call} returned an array of shape {grad.shape} and dtype {grad.dtype}, "
            f"expected shape {x.shape} and dtype float64\n"
            "likely mistake: "
            + (
                "the gradient has one entry per entry of x: the shape of x"
                if grad.shape != x.shape
                else "the gradient is a float64 array whatever dtype x has"
            )
        )
    assert_close(
        grad,
        expected,
        call=call,
        what="gradient",
        rtol=rtol,
        atol=atol,
        hint=_diagnose(grad, expected, step * curvature / 2)
        or hint
        or _fallback(grad, expected, x),
    )


def _diagnose(grad: np.ndarray, expected: np.ndarray, one_sided_error: np.ndarray) -> str | None:
    """The usual mistake that turns the central difference ``expected`` into ``grad``."""
    if not np.any(grad) and np.any(expected):
        return (
            "the gradient is all zeros: f never saw x change. Perturb x itself, in place, "
            "and call f(x): a copy of x (x.copy(), or x.ravel() and "
            "x.reshape(-1) when x is not contiguous) changes nothing f reads"
        )

    def near(candidate: np.ndarray) -> bool:
        return bool(np.allclose(grad, candidate, rtol=1e-6, atol=1e-9))

    if np.any(one_sided_error) and near(expected + one_sided_error):
        return (
            "a forward difference (f(x + h) - f(x)) / h, whose error is O(h): use the central one"
        )
    if np.any(one_sided_error) and near(expected - one_sided_error):
        return (
            "a backward difference (f(x) - f(x - h)) / h, whose error is O(h): use the central one"
        )
    if np.any(expected) and near(2 * expected):
        return "twice the gradient: x + h and x - h are 2h apart"
    if np.any(expected) and near(expected / 2):
        return "half the gradient: divide by 2*h, not 4*h"
    if np.any(expected) and near(-expected):
        return "the sign is flipped: the value at x + h comes first in the difference"
    return None


def _fallback(grad: np.ndarray, expected: np.ndarray, x: np.ndarray) -> str | None:
    """A hint for a gradient no usual mistake explains: nearly right, or wrong on an n-d x."""
    if np.allclose(grad, expected, rtol=1e-3, atol=1e-6):
        return (
            "close, but less accurate than a central difference with the step h: evaluate f "
            "at exactly old + h and old - h and divide by 2*h (a step much smaller than h, "
            "such as h**2, drowns the difference in rounding error)"
        )
    if x.ndim >= 2:
        return (
            f"x has {x.ndim} dimensions: perturb one element at a time, over every index "
            "tuple of x.shape; with range(len(x)) x[i] is a whole row, and a row saved as "
            "x[i] is a view that changes with x, not a saved value (nox -s hint -- "
            "numerical_gradient)"
        )
    return None


@given(shape=SHAPES, seed=SEEDS)
def test_sum_of_squares_gives_two_x(impl, shape, seed):
    x = np.random.default_rng(seed).standard_normal(shape)
    check_gradient(
        impl,
        lambda a: np.sum(a**2),
        x,
        expected=2 * x,
        curvature=np.full(shape, 2.0),
        call=f"numerical_gradient(f, x) with f(x) = sum(x**2), x of shape {shape}",
    )


@given(shape=SHAPES, seed=SEEDS)
def test_sum_of_sines_gives_cosines(impl, shape, seed):
    x = np.random.default_rng(seed).uniform(-3, 3, size=shape)
    check_gradient(
        impl,
        lambda a: np.sum(np.sin(a)),
        x,
        expected=np.cos(x),
        curvature=-np.sin(x),
        call=f"numerical_gradient(f, x) with f(x) = sum(sin(x)), x of shape {shape}",
    )


@given(n=st.integers(1, 6), seed=SEEDS)
def test_quadratic_form_with_a_non_symmetric_matrix(impl, n, seed):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n))
    x = rng.standard_normal(n)
    check_gradient(
        impl,
        lambda v: v @ A @ v,
        x,
        expected=(A + A.T) @ x,
        curvature=2 * np.diag(A),
        call=f"numerical_gradient(f, x) with f(x) = x @ A @ x, A {(n, n)} not symmetric",
        hint="d(x^T A x)/dx = (A + A^T) x: perturb one entry of x at a time, by +h and by -h, "
        "and put its saved value back before the next: f depends on every entry at once",
    )


@given(shape=ND_SHAPES, seed=SEEDS)
def test_function_of_an_n_dimensional_array(impl, shape, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal(shape)
    C = rng.standard_normal(shape)
    check_gradient(
        impl,
        lambda a: np.sum(C * a) + 0.5 * np.sum(a**2),
        X,
        expected=C + X,
        curvature=np.ones(shape),
        call=f"numerical_gradient(f, X) with f(X) = sum(C * X) + sum(X**2) / 2, X of shape {shape}",
        hint=(
            "every element of an n-d array is perturbed on its own: every index tuple of "
            "x.shape, not range(len(x)) (which takes whole rows)"
        ),
    )


def test_central_difference_not_forward_difference(impl):
    # For a cubic the central difference is 3 x**2 + h**2 exactly; the forward difference
    # is 3 x**2 + 3 x h + h**2: with h = 1e-3 the two differ by far more than rounding.
    x = np.array([-2.0, -0.5, 0.25, 1.0, 3.0])
    h = 1e-3
    check_gradient(
        impl,
        lambda a: np.sum(a**3),
        x,
        h=h,
        expected=3 * x**2 + h**2,
        curvature=6 * x,
        call=f"numerical_gradient(f, x, h={h}) with f(x) = sum(x**3), x = {x.tolist()}",
        rtol=1e-9,
        atol=1e-9,
    )


@pytest.mark.parametrize("h", [1e-2, 1e-4])
def test_uses_the_step_it_is_given(impl, h):
    x = np.array([-1.5, 0.5, 2.0])
    check_gradient(
        impl,
        lambda a: np.sum(a**3),
        x,
        h=h,
        expected=3 * x**2 + h**2,  # exact for a cubic: the h**2 term shows which h was used
        curvature=6 * x,
        call=f"numerical_gradient(f, x, h={h}) with f(x) = sum(x**3), x = {x.tolist()}",
        rtol=1e-9,
        atol=1e-10,
        hint="the step h is an argument: use it rather than a constant of your own",
    )


def test_x_is_restored_bit_for_bit(impl):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((4, 5)) * 10.0 ** rng.integers(-6, 2, size=(4, 5))
    before = x.copy()
    impl.numgrad.numerical_gradient(lambda a: np.sum(np.sin(a)), x)
    # x is perturbed in place by contract: only a change of rounding size names a mistake
    rounding = np.all(np.abs(x - before) <= 1e-10 * np.maximum(np.abs(before), 1.0))
    assert_unchanged(
        before,
        x,
        call="numerical_gradient(f, x)",
        what="x",
        mistake="x changed by rounding only, as when a step is undone with arithmetic: "
        "(v + h) - h is not always v in floating point"
        if rounding
        else None,
    )


def as_view(values: np.ndarray, kind: str) -> np.ndarray:
    """A view holding ``values`` that is not C-contiguous: x.ravel() of it is a copy."""
    if kind == "strided":
        return noncontiguous(values)
    if kind == "transposed":
        return np.ascontiguousarray(values.T).T
    wider = np.full((*values.shape[:-1], values.shape[-1] + 1), np.nan)
    wider[..., :-1] = values
    return wider[..., :-1]


@pytest.mark.parametrize("kind", ["contiguous", "strided", "transposed", "sliced"])
def test_f_sees_x_itself_through_a_view(impl, kind):
    # f ignores its argument: only changes made to x itself, in place, reach it
    values = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
    x = values.copy() if kind == "contiguous" else as_view(values, kind)
    column_view = x.T  # f reads x through this view, made before the call
    weights = np.array([[1.0, 2.0], [-3.0, 0.5], [4.0, -1.0]])
    check_gradient(
        impl,
        lambda _: np.sum(weights * column_view**2),
        x,
        expected=2 * weights.T * values,
        curvature=2 * weights.T,
        call=f"numerical_gradient(f, x) with x a {kind} array and f reading x only through "
        "the view x.T made beforehand",
    )


@given(
    shape=ND_SHAPES,
    kind=st.sampled_from(["strided", "transposed", "sliced"]),
    seed=SEEDS,
)
def test_non_contiguous_x(impl, shape, kind, seed):
    x = as_view(np.random.default_rng(seed).standard_normal(shape), kind)
    before = x.copy()
    check_gradient(
        impl,
        lambda a: np.sum(a**3),
        x,
        expected=3 * x**2,
        curvature=6 * x,
        call=f"numerical_gradient(f, x) with f(x) = sum(x**3), x a {kind} view of shape {shape}",
    )
    assert_unchanged(
        before, x, call="numerical_gradient(f, x) on a non-contiguous x", what="x", mistake=None
    )


def test_bad_arguments_are_refused_by_the_given_checks(impl):
    x = np.array([0.5, -1.0])
    check_gradient(  # the part to write first: the given checks alone pass nothing
        impl,
        lambda a: np.sum(a**2),
        x,
        expected=2 * x,
        curvature=np.full(2, 2.0),
        call="numerical_gradient(f, x) with f(x) = sum(x**2), x = [0.5, -1.0]",
    )
    for bad in (np.array([1, 2]), np.array([1.0], dtype=np.float32), [1.0, 2.0]):
        with pytest.raises(ValueError, match="x must be a float64 numpy array"):
            impl.numgrad.numerical_gradient(lambda a: 0.0, bad)
    for step in (0.0, -1e-5):
        with pytest.raises(ValueError, match="h must be a step > 0"):
            impl.numgrad.numerical_gradient(lambda a: 0.0, x, h=step)
