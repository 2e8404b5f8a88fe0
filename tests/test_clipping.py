"""Exercise ``clipping``: clip_grad_norm and clip_grad_value, PyTorch's semantics, in place.

The oracles are brute force: the squares of every element added one by one in float64, and a
clamp element by element. Each test keeps the arrays it passed in and checks *those* objects:
clipping must write into the layers' arrays, which the dictionary only refers to.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kata.judge import assert_close, noncontiguous
from tests.oracles import matching_mistake

pytestmark = pytest.mark.exercise("clipping")

SHAPES = {"W": (3, 4), "b": (4,), "0.W": (2, 3, 2)}
PER_ARRAY = "one norm over every array together (the global norm), not one per array"
ALWAYS = (
    "scale only when max_norm / (total_norm + 1e-6) < 1: clipping never makes a gradient longer"
)
IN_PLACE = (
    "change the arrays in place (the layers hold them); a new array stored in the dictionary, "
    "or bound to a local name, is never seen by the layer or the optimizer"
)


def gradients(seed: int, dtype=np.float64, scale: float = 1.0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {name: (rng.normal(size=shape) * scale).astype(dtype) for name, shape in SHAPES.items()}


def brute_norm(grads: dict[str, np.ndarray]) -> float:
    total = 0.0
    for grad in grads.values():
        for value in np.asarray(grad, dtype=np.float64).ravel():
            total += float(value) ** 2
    return math.sqrt(total)


def describe(grads: dict[str, np.ndarray]) -> str:
    return f"{len(grads)} arrays of shapes {[g.shape for g in grads.values()]}"


def check_clipped(grads, originals, arrays, expected, mistakes, call: str, rtol=1e-7) -> None:
    """The arrays passed in (``arrays``, the same objects) now hold ``expected``."""
    for name, array in arrays.items():
        if grads.get(name) is not array:
            raise AssertionError(
                f"{call}: grads[{name!r}] is no longer the array passed in\n"
                f"likely mistake: {IN_PLACE}"
            )
        hint = matching_mistake(array, [(m[name], text) for m, text in mistakes])
        if hint is None and np.array_equal(array, originals[name]):
            hint = IN_PLACE if not np.allclose(expected[name], originals[name]) else None
        assert_close(
            array,
            expected[name],
            call=call,
            what=f"grads[{name!r}]",
            rtol=rtol,
            atol=rtol,
            hint=hint,
        )
        assert array.dtype == originals[name].dtype, (
            f"{call}: grads[{name!r}] changed dtype from {originals[name].dtype} to {array.dtype}"
        )


@given(seed=st.integers(0, 2**32 - 1), max_norm=st.sampled_from([0.1, 1.0, 2.5]))
def test_clip_grad_norm_above_the_threshold(impl, seed, max_norm):
    grads = gradients(seed, scale=3.0)
    originals = {name: grad.copy() for name, grad in grads.items()}
    arrays = dict(grads)
    norm = brute_norm(originals)
    coefficient = max_norm / (norm + 1e-6)
    call = (
        f"clip_grad_norm(grads, max_norm={max_norm}) on {describe(grads)} with a total norm of "
        f"{norm:.4g}"
    )
    returned = impl.clipping.clip_grad_norm(grads, max_norm)
    per_array = {
        name: grad * min(1.0, max_norm / (np.sqrt(np.sum(grad**2)) + 1e-6))
        for name, grad in originals.items()
    }
    expected = {name: grad * coefficient for name, grad in originals.items()}
    check_clipped(grads, originals, arrays, expected, [(per_array, PER_ARRAY)], call)
    assert isinstance(returned, (float, np.floating)) and not isinstance(returned, np.ndarray), (
        f"{call} returned {type(returned).__name__}, expected the total norm as a float"
    )
    after = brute_norm(expected)
    hint = (
        "\nlikely mistake: return the total norm computed before the clipping (PyTorch's "
        "convention)"
        if math.isclose(float(returned), after, rel_tol=1e-6)
        else ""
    )
    assert math.isclose(float(returned), norm, rel_tol=1e-9), (
        f"{call} returned {float(returned):.6g}, expected the total norm {norm:.6g}" + hint
    )
    assert brute_norm(grads) <= max_norm * (1 + 1e-9), (
        f"{call}: after clipping the total norm is {brute_norm(grads):.6g}, above max_norm"
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_clip_grad_norm_below_the_threshold_changes_nothing(impl, dtype):
    grads = gradients(1, dtype=dtype)
    originals = {name: grad.copy() for name, grad in grads.items()}
    norm = brute_norm(originals)
    max_norm = 100.0
    call = (
        f"clip_grad_norm(grads, max_norm={max_norm}) with a total norm of {norm:.4g} (below "
        "max_norm)"
    )
    returned = impl.clipping.clip_grad_norm(grads, max_norm)
    grown = {name: grad * max_norm / (norm + 1e-6) for name, grad in originals.items()}
    check_clipped(grads, originals, dict(grads), originals, [(grown, ALWAYS)], call)
    assert returned is not None and math.isclose(float(returned), norm, rel_tol=1e-6), (
        f"{call} returned {returned!r}, expected the total norm {norm:.6g}"
    )


def test_clip_grad_norm_in_float32_and_on_views(impl):
    grads = {name: noncontiguous(grad) for name, grad in gradients(2, np.float32, 4.0).items()}
    originals = {name: grad.copy() for name, grad in grads.items()}
    norm = brute_norm(originals)
    expected = {
        name: grad.astype(np.float64) * 1.5 / (norm + 1e-6) for name, grad in originals.items()
    }
    call = f"clip_grad_norm(grads, max_norm=1.5) on float32 non-contiguous views, norm {norm:.4g}"
    returned = impl.clipping.clip_grad_norm(grads, 1.5)
    check_clipped(grads, originals, dict(grads), expected, [], call, rtol=1e-5)
    assert returned is not None and math.isclose(float(returned), norm, rel_tol=1e-5), (
        f"{call} returned {returned!r}, expected {norm:.6g}"
    )


def test_clip_grad_norm_of_zero_gradients_and_of_nothing(impl):
    grads = {name: np.zeros(shape) for name, shape in SHAPES.items()}
    call = "clip_grad_norm(grads, max_norm=1.0) on all-zero gradients"
    with np.errstate(all="raise"):
        returned = impl.clipping.clip_grad_norm(grads, 1.0)
    assert returned is not None and float(returned) == 0.0, f"{call} returned {returned!r}"
    for name, grad in grads.items():
        assert not np.any(grad), f"{call}: grads[{name!r}] is no longer zero"
    empty = impl.clipping.clip_grad_norm({}, 1.0)
    assert empty is not None and float(empty) == 0.0, (
        f"clip_grad_norm({{}}, max_norm=1.0) returned {empty!r}, expected 0.0"
    )


def test_clip_grad_value(impl):
    grads = gradients(3, scale=2.0)
    grads["b"][:2] = [0.5, -0.5]  # exactly at the bounds: unchanged
    originals = {name: grad.copy() for name, grad in grads.items()}
    expected = {}
    for name, grad in originals.items():
        clamped = grad.copy()
        for index in np.ndindex(grad.shape):
            clamped[index] = min(max(grad[index], -0.5), 0.5)
        expected[name] = clamped
    returned = impl.clipping.clip_grad_value(grads, 0.5)
    call = f"clip_grad_value(grads, clip_value=0.5) on {describe(grads)}"
    check_clipped(grads, originals, dict(grads), expected, [], call)
    assert returned is None, f"{call} returned {returned!r}, expected None (it works in place)"
    views = {name: noncontiguous(grad.astype(np.float32)) for name, grad in originals.items()}
    impl.clipping.clip_grad_value(views, 0.5)
    for name, view in views.items():
        assert view.dtype == np.float32, f"clip_grad_value on float32 views: {view.dtype}"
        assert_close(
            view,
            expected[name],
            call=f"{call}, float32 views",
            what=f"grads[{name!r}]",
            rtol=1e-6,
            atol=1e-7,
        )


@pytest.mark.parametrize("function", ["clip_grad_norm", "clip_grad_value"])
@pytest.mark.parametrize("bound", [0.0, -1.0, "1"])
def test_bad_bounds_are_refused(impl, function, bound):
    clip = getattr(impl.clipping, function)
    grads = {"W": np.full((2, 2), 10.0)}
    clip(grads, 1.0)
    largest = float(np.max(np.abs(grads["W"])))
    assert largest <= 1.0 + 1e-6, (
        f"{function}(grads, 1.0) on a (2, 2) array of 10s: values up to {largest:.6g} are left, "
        "expected every value within 1"
    )
    with pytest.raises(ValueError, match="must be > 0"):
        clip(grads, bound)


class RecordingOptimizer:
    """A stand-in optimizer: it records the gradients it is given, and its learning rate."""

    def __init__(self) -> None:
        self.lr = 0.5
        self.seen: list[dict[str, np.ndarray]] = []

    def step(self, params, grads) -> None:
        self.seen.append({name: grad.copy() for name, grad in grads.items()})


def test_clipped_optimizer_clips_before_the_step(impl):
    """The given wrapper, judged against the implementation's own clip_grad_norm (run on a copy
    of the same gradients): whether that function is right is the other tests' verdict, so a
    mistake in it is reported there, once."""
    inner = RecordingOptimizer()
    optimizer = impl.clipping.ClippedOptimizer(inner, max_norm=1.0)
    grads = gradients(4, scale=5.0)
    alone = {name: grad.copy() for name, grad in grads.items()}
    returned = impl.clipping.clip_grad_norm(alone, 1.0)
    call = "ClippedOptimizer(optimizer, max_norm=1.0).step(params, grads)"
    optimizer.step({name: np.zeros_like(g) for name, g in grads.items()}, grads)
    assert len(inner.seen) == 1, (
        f"{call} called the wrapped optimizer's step {len(inner.seen)} times, expected once"
    )
    for name, clipped in alone.items():
        assert_close(
            inner.seen[0][name],
            clipped,
            call=call,
            what=f"grads[{name!r}] as the wrapped optimizer received it",
            rtol=1e-12,
            atol=1e-12,
            pointer="expected what your clip_grad_norm(grads, 1.0) leaves in the same gradients: "
            "the given step clips first, then steps the wrapped optimizer (did it change?)",
        )
    assert optimizer.last_norm == returned, (
        f"{call}: last_norm is {optimizer.last_norm!r}, expected {returned!r}, what your "
        "clip_grad_norm returned for the same gradients"
    )
    optimizer.lr *= 0.5
    assert inner.lr == 0.25, "ClippedOptimizer.lr must read and set the wrapped optimizer's"
