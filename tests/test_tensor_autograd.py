"""Exercise ``tensor_autograd``: the autograd engine over numpy arrays.

Every operation is judged by its gradients: a random upstream array ``u`` makes the scalar
``sum(op(a, b) * u)``, so one check covers the whole vector-Jacobian product; the expected
gradients are central differences of the same expression written here in numpy (never with
the implementation's code). The Tensors must also reproduce, to float64 precision, the
gradients the implementation's own ``Linear``, ``ReLU`` and ``SoftmaxCrossEntropy`` compute by
hand on the same batch.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from kata.judge import assert_close, assert_unchanged, noncontiguous
from kata.sandbox import repeated
from tests.test_autograd import CHAIN, recursion_mistake
from toolkit.gradcheck import numerical_gradient

pytestmark = pytest.mark.exercise("tensor_autograd")

SIZES = st.integers(1, 4)
SEEDS = st.integers(0, 2**32 - 1)
SHAPES = st.lists(SIZES, min_size=0, max_size=3).map(tuple)


@st.composite
def broadcast_pairs(draw: st.DrawFn) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """A shape and a shape that broadcasts to it: leading axes dropped, some axes set to 1."""
    full = draw(st.lists(SIZES, min_size=0, max_size=4).map(tuple))
    dropped = draw(st.integers(0, len(full)))
    small = [1 if draw(st.booleans()) else size for size in full[dropped:]]
    return full, tuple(small)


def brute_unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The sum, index by index, of the elements of ``grad`` that read each operand element."""
    result = np.zeros(shape)
    extra = grad.ndim - len(shape)
    for index in np.ndindex(grad.shape):
        target = tuple(0 if size == 1 else i for i, size in zip(index[extra:], shape, strict=True))
        result[target] += grad[index]
    return result


def not_summed_back(shape: tuple[int, ...], got: Any) -> str | None:
    got_shape = np.shape(got)
    if got_shape != shape:
        return (
            f"broadcasting not summed back: an operand of shape {shape} must receive a "
            f"gradient of shape {shape}, got {got_shape}"
        )
    return None


@given(pair=broadcast_pairs(), seed=SEEDS, order=st.booleans())
def test_unbroadcast_matches_a_brute_force_sum(impl, pair, seed, order):
    full, small = pair
    grad = np.random.default_rng(seed).normal(size=full)
    if order:
        grad = np.asfortranarray(grad)
    before = grad.copy()
    got = impl.tensor_autograd.unbroadcast(grad, small)
    call = f"unbroadcast(grad of shape {full}, {small})"
    assert_close(got, brute_unbroadcast(grad, small), call=call, hint=not_summed_back(small, got))
    assert_unchanged(before, grad, call=call, what="grad")


BROADCAST_MISTAKE = (
    "broadcasting not summed back: every operand must receive a gradient of its own shape (the "
    "axes that broadcasting added or stretched are summed away)"
)
NEGATION_MISTAKE = (
    "broadcasting not summed back in your *: a - b is given as a + (-b), and the given __neg__ "
    "multiplies by -1.0, a 0-d constant; the gradient for that 0-d operand must be summed back "
    "to shape ()"
)


def run_backward(loss: Any, call: str, *, through_negation: bool = False) -> None:
    """``loss.backward()``; numpy's refusal to add a gradient of the wrong shape is explained.

    ``through_negation``: the graph holds a subtraction and no 0-d operand of the test's own, so
    a gradient refused by a 0-d grad is the one of the given ``__neg__``'s constant -1.0.
    """
    try:
        loss.backward()
    except ValueError as error:
        if "non-broadcastable output operand" not in str(error):
            raise  # not a gradient added to a grad of another shape: shown as it is
        zero_d = "operand with shape ()" in str(error)
        mistake = NEGATION_MISTAKE if through_negation and zero_d else BROADCAST_MISTAKE
        pytest.fail(
            f"{call}: backward() raised ValueError: {error}\nlikely mistake: {mistake}",
            pytrace=False,
        )


# ------------------------------------------------------------------- operations, one by one


def leaf(impl: Any, array: np.ndarray) -> Any:
    return impl.tensor_autograd.Tensor(array)


def check_gradients(
    call: str,
    output: Any,
    leaves: list[tuple[str, Any, np.ndarray]],
    numpy_function: Callable[[], np.ndarray],
    upstream: np.ndarray,
    *,
    through_negation: bool = False,
) -> None:
    """``output`` (a Tensor) against ``numpy_function`` (the same expression in numpy, reading
    the leaf arrays): ``sum(output * upstream)`` is back-propagated and every leaf's gradient
    compared with central differences (``through_negation``: see :func:`run_backward`)."""
    assert_close(output.data, numpy_function(), call=call, what="data", rtol=1e-12, atol=1e-12)
    loss = (output * upstream).sum()
    run_backward(loss, f"{call}, then (out * u).sum()", through_negation=through_negation)
    for name, tensor, array in leaves:
        numeric = numerical_gradient(lambda: float(np.sum(numpy_function() * upstream)), array)
        assert tensor.grad is not None, f"{call}, then backward(): {name}.grad is None"
        assert_close(
            tensor.grad,
            numeric,
            call=f"{call}, then (out * u).sum().backward() for a random u",
            what=f"{name}.grad",
            rtol=1e-6,
            atol=1e-8,
            hint=not_summed_back(np.shape(array), tensor.grad),
        )


@pytest.mark.parametrize("operation", ["+", "*", "-"])
@given(pair=broadcast_pairs(), swap=st.booleans(), seed=SEEDS)
def test_elementwise_operations_with_broadcasting(impl, operation, pair, swap, seed):
    full, small = pair
    shapes = (small, full) if swap else (full, small)
    rng = np.random.default_rng(seed)
    a_array, b_array = rng.normal(size=shapes[0]), rng.normal(size=shapes[1])
    a, b = leaf(impl, a_array), leaf(impl, b_array)
    apply = {"+": np.add, "*": np.multiply, "-": np.subtract}[operation]
    out = {"+": lambda: a + b, "*": lambda: a * b, "-": lambda: a - b}[operation]()
    check_gradients(
        f"a {operation} b with a of shape {shapes[0]} and b of shape {shapes[1]}",
        out,
        [("a", a, a_array), ("b", b, b_array)],
        lambda: apply(a_array, b_array),
        rng.normal(size=full),
        through_negation=operation == "-" and () not in shapes,
    )


@given(n=SIZES, d=SIZES, m=SIZES, seed=SEEDS)
def test_matmul(impl, n, d, m, seed):
    rng = np.random.default_rng(seed)
    a_array, b_array = rng.normal(size=(n, d)), rng.normal(size=(d, m))
    a, b = leaf(impl, a_array), leaf(impl, b_array)
    check_gradients(
        f"a @ b with a of shape {(n, d)} and b of shape {(d, m)}",
        a @ b,
        [("a", a, a_array), ("b", b, b_array)],
        lambda: a_array @ b_array,
        rng.normal(size=(n, m)),
    )


def test_non_contiguous_views(impl):
    rng = np.random.default_rng(5)
    a_array = noncontiguous(rng.normal(size=(3, 4)))
    b_array = rng.normal(size=(2, 4)).T  # a transposed view, (4, 2)
    c_array = noncontiguous(rng.normal(size=(2,)))
    a, b, c = leaf(impl, a_array), leaf(impl, b_array), leaf(impl, c_array)
    check_gradients(
        "(a @ b + c) * (a @ b) with non-contiguous views a (3, 4), b (4, 2) and c (2,)",
        (a @ b + c) * (a @ b),
        [("a", a, a_array), ("b", b, b_array), ("c", c, c_array)],
        lambda: (a_array @ b_array + c_array) * (a_array @ b_array),
        rng.normal(size=(3, 2)),
    )


@given(shape=st.lists(SIZES, min_size=1, max_size=3).map(tuple), data=st.data(), seed=SEEDS)
def test_sum_over_everything_or_one_axis(impl, shape, data, seed):
    axis = data.draw(st.sampled_from([None, *range(-len(shape), len(shape))]), label="axis")
    rng = np.random.default_rng(seed)
    a_array = rng.normal(size=shape)
    a = leaf(impl, a_array)
    expected_shape = np.sum(a_array, axis=axis).shape
    check_gradients(
        f"a.sum(axis={axis}) with a of shape {shape}",
        a.sum(axis=axis),
        [("a", a, a_array)],
        lambda: np.sum(a_array, axis=axis),
        rng.normal(size=expected_shape),
    )


@given(shape=st.lists(SIZES, min_size=1, max_size=3).map(tuple), seed=SEEDS)
def test_reshape(impl, shape, seed):
    rng = np.random.default_rng(seed)
    a_array = rng.normal(size=shape)
    a = leaf(impl, a_array)
    new_shape = (int(np.prod(shape)),) if len(shape) > 1 else (1, shape[0])
    check_gradients(
        f"a.reshape{new_shape} with a of shape {shape}",
        a.reshape(*new_shape),
        [("a", a, a_array)],
        lambda: a_array.reshape(new_shape),
        rng.normal(size=new_shape),
    )


@given(shape=SHAPES, seed=SEEDS)
def test_relu_away_from_zero(impl, shape, seed):
    rng = np.random.default_rng(seed)
    a_array = rng.normal(size=shape)
    assume(np.all(np.abs(a_array) > 1e-3))
    a = leaf(impl, a_array)
    check_gradients(
        f"a.relu() with a of shape {shape}",
        a.relu(),
        [("a", a, a_array)],
        lambda: np.maximum(a_array, 0.0),
        rng.normal(size=shape),
    )


def batch_size_factor(got: Any, expected: np.ndarray, n: int) -> str | None:
    """The likely mistake when ``got`` is ``expected`` times the batch size ``n`` (or divided
    by it once more): the cross-entropy is a mean over the batch, and so is its gradient."""
    if n < 2 or got is None or np.shape(got) != np.shape(expected):
        return None
    got = np.asarray(got, dtype=np.float64)
    for factor, words in [(n, f"{n} times"), (1 / n, f"1/{n} of")]:
        if np.allclose(got, factor * expected, rtol=1e-5, atol=1e-9):
            return (
                f"every value is {words} the expected one, and {n} is the batch size N: the "
                "loss is the mean over the batch, and its gradient must be averaged over the "
                "batch exactly once"
            )
    return None


def numpy_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
    """-mean_n log softmax(logits[n])[labels[n]], one row at a time."""
    total = 0.0
    for row, label in zip(logits, labels, strict=True):
        shifted = row - row.max()
        total -= shifted[label] - np.log(np.sum(np.exp(shifted)))
    return total / len(labels)


@given(
    n=st.integers(1, 6),
    classes=st.integers(2, 5),
    scale=st.sampled_from([1.0, 1000.0]),
    seed=SEEDS,
)
def test_cross_entropy(impl, n, classes, scale, seed):
    rng = np.random.default_rng(seed)
    logits_array = scale * rng.normal(size=(n, classes))
    labels = rng.integers(0, classes, n)
    logits = leaf(impl, logits_array)
    call = f"logits.cross_entropy(labels) with logits of shape {(n, classes)} (scale {scale})"
    loss = logits.cross_entropy(labels)
    expected = numpy_cross_entropy(logits_array, labels)
    assert np.shape(loss.data) in {(), (1,)}, (
        f"{call}: data of shape {np.shape(loss.data)}, expected a single number"
    )
    assert_close(float(np.asarray(loss.data).reshape(())), expected, call=call, what="data")
    loss.backward()
    numeric = numerical_gradient(lambda: numpy_cross_entropy(logits_array, labels), logits_array)
    assert_close(
        logits.grad,
        numeric,
        call=call + ", then backward()",
        what="logits.grad",
        rtol=1e-6,
        atol=1e-6,
        hint=batch_size_factor(logits.grad, numeric, n),
    )


# ---------------------------------------------------------- the engine across operations


def test_a_tensor_times_itself(impl):
    a_array = np.array([[1.5, -2.0, 0.5]])
    a = leaf(impl, a_array)
    run_backward((a * a).sum(), "(a * a).sum()")
    hint = None
    if a.grad is not None and np.allclose(a.grad, a_array):
        hint = (
            "gradients overwritten: a tensor used twice must receive the sum of one term per "
            "use (accumulate into grad)"
        )
    assert_close(
        a.grad,
        2 * a_array,
        call="a = Tensor([[1.5, -2.0, 0.5]]); (a * a).sum().backward()",
        what="a.grad",
        hint=hint,
    )


@given(n=SIZES, d=SIZES, seed=SEEDS)
def test_a_tensor_used_several_times_accumulates(impl, n, d, seed):
    rng = np.random.default_rng(seed)
    a_array, w_array = rng.normal(size=(n, d)), rng.normal(size=(d, d))
    a, w = leaf(impl, a_array), leaf(impl, w_array)
    out = (a * a + a) @ w + a
    check_gradients(
        f"(a * a + a) @ w + a with a of shape {(n, d)} and w of shape {(d, d)}",
        out,
        [("a", a, a_array), ("w", w, w_array)],
        lambda: (a_array * a_array + a_array) @ w_array + a_array,
        rng.normal(size=(n, d)),
    )


def test_numbers_and_arrays_on_either_side(impl):
    rng = np.random.default_rng(1)
    a_array = rng.normal(size=(2, 3))
    c = rng.normal(size=(3,))
    a = leaf(impl, a_array)
    out = 2.0 * a - 1.0 + c * a + (1.0 - a) * 3.0
    check_gradients(
        "2 * a - 1 + c * a + (1 - a) * 3 with a (2, 3) and c a numpy array (3,)",
        out,
        [("a", a, a_array)],
        lambda: 2.0 * a_array - 1.0 + c * a_array + (1.0 - a_array) * 3.0,
        rng.normal(size=(2, 3)),
    )


def test_backward_twice_gives_the_gradients_of_one_call(impl):
    rng = np.random.default_rng(2)
    a = leaf(impl, rng.normal(size=(3, 4)))
    w = leaf(impl, rng.normal(size=(4, 2)))
    loss = (a @ w).relu().sum()
    loss.backward()
    first = w.grad.copy()
    loss.backward()
    assert_close(
        w.grad,
        first,
        call="loss = (a @ w).relu().sum(); loss.backward() twice",
        what="w.grad after the second call",
        hint="each call must give the gradients of that call: backward first sets every grad "
        "of the graph to zeros",
    )
    w_twice = w * 2.0
    w_twice.sum().backward()
    assert_close(
        w.grad,
        np.full((4, 2), 2.0),
        call="then (w * 2).sum().backward()",
        what="w.grad",
        hint="each call must give the gradients of that call: a grad left from the first "
        "graph was added to",
    )


def test_operands_are_never_modified(impl):
    rng = np.random.default_rng(3)
    arrays = {
        "a": rng.normal(size=(3, 4)),
        "b": rng.normal(size=(4,)),
        "w": rng.normal(size=(4, 2)),
    }
    before = {name: array.copy() for name, array in arrays.items()}
    a, b, w = (leaf(impl, arrays[name]) for name in ("a", "b", "w"))
    loss = (((a * b + b) @ w).relu().reshape(6) * 2.0).sum() + (a @ w).cross_entropy([0, 1, 1])
    loss.backward()
    for name, array in arrays.items():
        assert_unchanged(before[name], array, call="a forward and backward pass", what=name)


def test_float32_stays_float32(impl):
    rng = np.random.default_rng(4)
    a = leaf(impl, rng.normal(size=(3, 4)).astype(np.float32))
    w = leaf(impl, rng.normal(size=(4, 2)).astype(np.float32))
    b = leaf(impl, np.zeros(2, dtype=np.float32))
    loss = ((a @ w + b).relu() * 0.5 - 1.0).reshape(3, 2).cross_entropy(np.array([0, 1, 1]))
    loss.backward()
    for name, tensor in [("loss", loss), ("a", a), ("w", w), ("b", b)]:
        assert tensor.data.dtype == np.float32, (
            f"float32 leaves: {name}.data has dtype {tensor.data.dtype}, expected float32 "
            "(a float64 number or array wrapped without the Tensor's dtype promotes it)"
        )
        if name != "loss":
            assert tensor.grad.dtype == np.float32, (
                f"float32 leaves: {name}.grad has dtype {tensor.grad.dtype}, expected float32"
            )


def test_a_chain_of_100000_operations_needs_no_recursion(impl):
    x = leaf(impl, np.array([0.5, -0.25]))
    y = repeated("mul", x, 1.00001, CHAIN)  # y = x * 1.00001, CHAIN times
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack(0)) + 100)
    error = None
    try:
        y.sum().backward()
    except RecursionError as raised:
        error = raised
    finally:
        sys.setrecursionlimit(limit)
    assert error is None, (
        f"y = x * 1.00001 repeated {CHAIN:,} times; y.sum().backward() with the recursion limit "
        f"at 100 frames beyond the caller raised RecursionError\nlikely mistake: "
        + recursion_mistake(error, "Tensor.backward")
    )
    assert_close(x.grad, np.full(2, 1.00001**CHAIN), call="that chain", what="x.grad", rtol=1e-9)


# ------------------------------------------------- the same gradients as the layers by hand


@given(n=st.integers(1, 8), d=SIZES, h=SIZES, c=st.integers(2, 4), seed=SEEDS)
def test_the_same_gradients_as_linear_relu_and_softmax_cross_entropy(impl, n, d, h, c, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    labels = rng.integers(0, c, n)
    first = impl.linear.Linear(d, h, rng=rng, dtype=np.float64)
    second = impl.linear.Linear(h, c, rng=rng, dtype=np.float64)
    for layer in (first, second):
        layer.params["b"][...] = rng.normal(size=layer.params["b"].shape)
    relu, loss_fn = impl.activations.ReLU(), impl.losses.SoftmaxCrossEntropy()
    layer_loss = loss_fn.forward(second.forward(relu.forward(first.forward(x))), labels)
    second_dx = second.backward(loss_fn.backward())
    first.backward(relu.backward(second_dx))

    Tensor = impl.tensor_autograd.Tensor
    W1, b1 = Tensor(first.params["W"].copy()), Tensor(first.params["b"].copy())
    W2, b2 = Tensor(second.params["W"].copy()), Tensor(second.params["b"].copy())
    xt = Tensor(x.copy())
    loss = ((xt @ W1 + b1).relu() @ W2 + b2).cross_entropy(labels)
    run_backward(loss, "((x @ W1 + b1).relu() @ W2 + b2).cross_entropy(labels)")
    call = (
        f"a batch of {n}: Linear({d}, {h}), ReLU, Linear({h}, {c}), SoftmaxCrossEntropy by hand "
        "and the same network of Tensors with the same weights"
    )
    got_loss = float(np.asarray(loss.data).reshape(()))
    assert_close(got_loss, layer_loss, call=call, what="the loss", rtol=1e-12)
    pairs = [
        ("W1", W1.grad, first.grads["W"]),
        ("b1", b1.grad, first.grads["b"]),
        ("W2", W2.grad, second.grads["W"]),
        ("b2", b2.grad, second.grads["b"]),
    ]
    scaled = None  # a loss gradient scaled by N scales all four alike: judged on all of them
    if all(np.shape(got) == np.shape(expected) for _, got, expected in pairs):
        scaled = batch_size_factor(
            np.concatenate([np.ravel(got) for _, got, _ in pairs]),
            np.concatenate([np.ravel(expected) for _, _, expected in pairs]),
            n,
        )
    for name, got, expected in pairs:
        assert_close(
            got,
            expected,
            call=call,
            what=f"{name}.grad against the layers' grads",
            rtol=1e-10,
            atol=1e-12,
            hint=not_summed_back(np.shape(expected), got) or scaled,
        )


def test_backward_refuses_a_tensor_of_several_elements(impl):
    a = leaf(impl, np.ones((2, 2)))
    with pytest.raises(ValueError, match="one element"):
        (a * 2.0).backward()
