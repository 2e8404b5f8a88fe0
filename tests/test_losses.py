"""Exercise ``softmax_cross_entropy``: softmax, log-softmax, cross-entropy and mean squared error.

Values are compared with oracles computed here with ``math`` on small logits, and with known
values (uniform logits, logits of +-1000); gradients with the judge's central differences
(``check_loss``).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kata.judge import assert_close, assert_unchanged, check_loss
from tests.oracles import matching_mistake, no_float_warnings

pytestmark = pytest.mark.exercise("softmax_cross_entropy")

SIZES = st.integers(1, 6)
CLASSES = st.integers(2, 6)
SEEDS = st.integers(0, 2**32 - 1)
HUGE = np.array([[1000.0, 0.0], [0.0, 1000.0], [-1000.0, 0.0], [1000.0, 1000.0]])


def softmax_oracle(row: list[float]) -> list[float]:
    """The softmax of one short list of small numbers, with math.exp."""
    exps = [math.exp(v) for v in row]
    total = sum(exps)
    return [e / total for e in exps]


def along(function: Callable[[list[float]], list[float]], x: np.ndarray, axis: int) -> np.ndarray:
    """``function`` applied to every 1-D slice of ``x`` along ``axis`` (the brute-force way)."""
    moved = np.moveaxis(x, axis, -1)
    rows = [function([float(v) for v in row]) for row in moved.reshape(-1, moved.shape[-1])]
    return np.moveaxis(np.array(rows).reshape(moved.shape), -1, axis)


def cross_entropy_oracle(logits: np.ndarray, labels: np.ndarray) -> float:
    """-(1/N) sum_n log softmax(logits[n])[labels[n]], with math."""
    losses = [
        -math.log(softmax_oracle([float(v) for v in row])[int(label)])
        for row, label in zip(logits, labels, strict=True)
    ]
    return sum(losses) / len(losses)


def no_warnings(call: str, function: Callable[[], object]) -> object:
    """Run ``function`` with numpy overflow, division by zero and nan turned into failures."""
    return no_float_warnings(
        call,
        function,
        hint="exp of a large logit overflowed to inf (or a probability that rounded to 0 went "
        "into log): the result must stay finite for logits of any size "
        "(nox -s hint -- softmax_cross_entropy)",
    )


def logits_and_labels(n: int, classes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(0, 2, size=(n, classes)), rng.integers(0, classes, size=n)


# ------------------------------------------------------------------------------------ softmax


@given(n=SIZES, classes=SIZES, seed=SEEDS)
def test_softmax_matches_the_oracle(impl, n, classes, seed):
    x = np.random.default_rng(seed).normal(0, 2, size=(n, classes))
    p = impl.losses.softmax(x)
    wrong_axis = along(softmax_oracle, x, axis=0)
    assert_close(
        p,
        along(softmax_oracle, x, axis=-1),
        call=f"softmax(x) with x of shape {x.shape}",
        hint=matching_mistake(
            p,
            [
                (wrong_axis, "softmax over axis 0: each row (axis=-1) is a distribution"),
                (np.exp(x) / np.exp(x).sum(), "normalized over the whole array, not per row"),
            ],
        )
        or "each row is a distribution: its maximum and its sum are taken along the row, kept "
        "as a column so that they broadcast back (nox -s hint -- softmax_cross_entropy)",
    )
    assert_close(
        np.sum(p, axis=-1),
        np.ones(n),
        call=f"softmax(x) with x of shape {x.shape}",
        what="row sums",
    )


@given(shape=st.lists(SIZES, min_size=1, max_size=3).map(tuple), data=st.data())
def test_softmax_and_log_softmax_along_any_axis(impl, shape, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1), label="axis")
    x = np.random.default_rng(data.draw(SEEDS, label="seed")).normal(0, 2, size=shape)
    expected = along(softmax_oracle, x, axis=axis)
    hint = (
        "the distribution runs along the axis given: every reduction along axis, kept as an "
        "axis of length 1 so that it broadcasts back"
    )
    assert_close(
        impl.losses.softmax(x, axis=axis),
        expected,
        call=f"softmax(x, axis={axis}) with x of shape {shape}",
        hint=hint,
    )
    assert_close(
        impl.losses.log_softmax(x, axis=axis),
        np.log(expected),
        call=f"log_softmax(x, axis={axis}) with x of shape {shape}",
        hint=hint,
    )


@given(n=SIZES, classes=SIZES, seed=SEEDS)
def test_softmax_ignores_a_constant_added_to_a_row(impl, n, classes, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 2, size=(n, classes))
    shifts = rng.uniform(-50, 50, size=(n, 1))
    assert_close(
        impl.losses.softmax(x + shifts),
        impl.losses.softmax(x),
        call=f"softmax(x + c) against softmax(x), c a constant per row, x of shape {x.shape}",
        rtol=1e-6,
        atol=1e-12,
    )


def test_softmax_of_huge_logits(impl):
    call = f"softmax(x) with x = {HUGE.tolist()}"
    p = no_warnings(call, lambda: impl.losses.softmax(HUGE))
    expected = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [0.5, 0.5]])
    assert_close(p, expected, call=call, atol=1e-300)


def test_log_softmax_of_huge_logits(impl):
    call = f"log_softmax(x) with x = {HUGE.tolist()}"
    log_p = no_warnings(call, lambda: impl.losses.log_softmax(HUGE))
    expected = np.array([[0.0, -1000.0], [-1000.0, 0.0], [-1000.0, 0.0], [-math.log(2)] * 2])
    assert_close(
        log_p,
        expected,
        call=call,
        hint="the log of a softmax computed as a softmax gives log(0) = -inf where exp "
        "underflows: derive log p without a division (nox -s hint -- softmax_cross_entropy)",
    )


@given(n=SIZES, classes=SIZES, seed=SEEDS)
def test_log_softmax_matches_the_oracle(impl, n, classes, seed):
    x = np.random.default_rng(seed).normal(0, 2, size=(n, classes))
    assert_close(
        impl.losses.log_softmax(x),
        np.log(along(softmax_oracle, x, axis=-1)),
        call=f"log_softmax(x) with x of shape {x.shape}",
    )


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_functions_keep_float32_and_do_not_mutate(impl, name):
    x = np.random.default_rng(1).normal(0, 2, size=(3, 4)).astype(np.float32)
    before = x.copy()
    result = getattr(impl.losses, name)(x)
    assert_unchanged(before, x, call=f"{name}(x)", what="input x")
    assert isinstance(result, np.ndarray) and result.dtype == np.float32, (
        f"{name}(x) with a float32 x returned {getattr(result, 'dtype', type(result))}, expected "
        "float32: the dtype follows the input"
    )
    expected = along(softmax_oracle, x.astype(np.float64), axis=-1)
    expected = expected if name == "softmax" else np.log(expected)
    assert_close(result, expected, call=f"{name}(x) with a float32 x", rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------------- cross-entropy


@given(n=SIZES, classes=CLASSES, seed=SEEDS)
def test_cross_entropy_matches_the_oracle(impl, n, classes, seed):
    logits, labels = logits_and_labels(n, classes, seed)
    value = impl.losses.SoftmaxCrossEntropy().forward(logits, labels)
    call = f"SoftmaxCrossEntropy().forward(logits, labels) with logits of shape {logits.shape}"
    assert isinstance(value, float), (
        f"{call} returned {type(value).__name__}, expected a Python float: float(...)"
    )
    expected = cross_entropy_oracle(logits, labels)
    log_p = np.log(along(softmax_oracle, logits, axis=-1))
    log_p_over_the_batch = np.log(along(softmax_oracle, logits, axis=0))
    assert_close(
        value,
        expected,
        call=call,
        what="loss",
        hint=matching_mistake(
            value,
            [
                (np.array(expected * n), "summed over the batch: the loss is the mean"),
                (
                    np.array(-log_p_over_the_batch[np.arange(n), labels].mean()),
                    "softmax over axis 0 (the batch): it is over the classes, axis 1",
                ),
                (
                    np.array(-log_p[:, labels].mean()),
                    "every label was taken for every row (an (N, N) block): the loss takes "
                    "one entry per row, log p[n, y_n]",
                ),
            ],
        ),
    )


@pytest.mark.parametrize("classes", [2, 3, 10])
def test_uniform_logits_cost_log_of_the_number_of_classes(impl, classes):
    logits = np.full((4, classes), 3.0)
    labels = np.arange(4) % classes
    value = impl.losses.SoftmaxCrossEntropy().forward(logits, labels)
    assert_close(
        value,
        math.log(classes),
        call=f"SoftmaxCrossEntropy().forward(logits, labels) with 4 rows of {classes} equal logits",
        what="loss",
        hint="each probability is 1/C, so each sample costs -log(1/C) = log C, and so does the "
        "mean",
    )


@pytest.mark.parametrize(("label", "expected"), [(0, 0.0), (1, 1000.0)])
def test_cross_entropy_of_confident_logits(impl, label, expected):
    logits = np.array([[1000.0, 0.0]])
    loss = impl.losses.SoftmaxCrossEntropy()
    call = f"SoftmaxCrossEntropy().forward([[1000, 0]], [{label}])"
    value = no_warnings(call, lambda: loss.forward(logits, np.array([label])))
    assert_close(
        value,
        expected,
        call=call,
        what="loss",
        hint="-log_softmax([1000, 0]) = [0, 1000] exactly; a probability clipped at eps "
        "(np.clip(p, 1e-12, 1) or np.log(p + 1e-12)) caps the loss at -log(eps) = 27.6: take "
        "the log-softmax, never the log of a probability",
    )
    grad = no_warnings(call + " then backward()", loss.backward)
    onehot = np.eye(2)[[label]]
    assert_close(grad, np.array([[1.0, 0.0]]) - onehot, call=call + " then backward()")


@given(n=SIZES, classes=CLASSES, seed=SEEDS)
def test_cross_entropy_gradient_check(impl, n, classes, seed):
    logits, labels = logits_and_labels(n, classes, seed)
    check_loss(
        impl.losses.SoftmaxCrossEntropy(),
        logits,
        labels,
        call=f"SoftmaxCrossEntropy on logits of shape {logits.shape}",
    )


@pytest.mark.parametrize(("n", "classes"), [(3, 3), (5, 2), (2, 5)])
def test_cross_entropy_gradient_values(impl, n, classes):
    logits, labels = logits_and_labels(n, classes, seed=n * 10 + classes)
    loss = impl.losses.SoftmaxCrossEntropy()
    loss.forward(logits, labels)
    grad = loss.backward()
    p = along(softmax_oracle, logits, axis=-1)
    onehot = np.zeros((n, classes))
    onehot[np.arange(n), labels] = 1.0
    assert_close(
        grad,
        (p - onehot) / n,
        call=f"SoftmaxCrossEntropy().backward() after forward on logits {logits.shape}",
        what="gradient",
        hint=matching_mistake(
            grad,
            [
                (p - onehot, "not divided by the batch size N: the loss is a mean"),
                (onehot - p, "wrong sign: your gradient is minus the true one"),
                (
                    (along(softmax_oracle, logits, axis=0) - onehot) / n,
                    "softmax over axis 0 (the batch) instead of the classes",
                ),
            ],
        ),
    )


def test_cross_entropy_keeps_float32_and_accepts_uint8_labels(impl):
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(4, 3)).astype(np.float32)
    labels = np.array([0, 2, 1, 2], dtype=np.uint8)
    logits_before, labels_before = logits.copy(), labels.copy()
    loss = impl.losses.SoftmaxCrossEntropy()
    value = loss.forward(logits, labels)
    grad = loss.backward()
    call = "SoftmaxCrossEntropy() on float32 logits (4, 3) and uint8 labels"
    assert_unchanged(logits_before, logits, call=call, what="logits")
    assert_unchanged(labels_before, labels, call=call, what="labels")
    assert isinstance(value, float), f"{call}: forward returned {type(value).__name__}, not float"
    assert isinstance(grad, np.ndarray) and grad.dtype == np.float32, (
        f"{call}: backward returned {getattr(grad, 'dtype', type(grad))}, expected float32: "
        "the gradient has the dtype of the logits (a one-hot matrix built without a dtype is "
        "float64)"
    )
    expected = cross_entropy_oracle(logits.astype(np.float64), labels)
    assert_close(value, expected, call=call, what="loss", rtol=1e-5)


def test_cross_entropy_backward_uses_the_last_forward(impl):
    loss = impl.losses.SoftmaxCrossEntropy()
    first, first_labels = logits_and_labels(3, 4, seed=3)
    last, last_labels = logits_and_labels(2, 4, seed=4)
    loss.forward(first, first_labels)
    loss.forward(last, last_labels)
    p = along(softmax_oracle, last, axis=-1)
    p[np.arange(2), last_labels] -= 1
    assert_close(
        loss.backward(),
        p / 2,
        call="SoftmaxCrossEntropy(): forward(logits1, labels1), forward(logits2, labels2), "
        "backward()",
        what="gradient",
    )


@pytest.mark.parametrize(
    ("labels", "problem"),
    [
        (np.array([0.0, 1.0, 2.0]), "float labels"),
        (np.array([0, 1, 3]), "a label equal to C"),
        (np.array([0, -1, 2]), "a negative label"),
        (np.array([[0], [1], [2]]), "labels of shape (N, 1)"),
        (np.array([0, 1]), "fewer labels than rows"),
    ],
)
def test_cross_entropy_rejects_bad_labels(impl, labels, problem):
    logits = np.zeros((3, 3))
    good = np.array([0, 1, 2])
    assert_close(
        impl.losses.SoftmaxCrossEntropy().forward(logits, good),
        math.log(3),
        call="SoftmaxCrossEntropy().forward(zeros (3, 3), [0, 1, 2])",
        what="loss",
    )
    with pytest.raises(ValueError, match="labels"):
        impl.losses.SoftmaxCrossEntropy().forward(logits, labels)


# ---------------------------------------------------------------------- mean squared error


@given(shape=st.lists(SIZES, min_size=1, max_size=3).map(tuple), seed=SEEDS)
def test_mean_squared_error_value_and_gradient(impl, shape, seed):
    rng = np.random.default_rng(seed)
    prediction, target = rng.normal(size=shape), rng.normal(size=shape)
    call = f"MeanSquaredError() on a prediction of shape {shape}"
    value = impl.losses.MeanSquaredError().forward(prediction, target)
    assert isinstance(value, float), f"{call}: forward returned {type(value).__name__}, not float"
    squares = [
        (float(p) - float(t)) ** 2 for p, t in zip(prediction.ravel(), target.ravel(), strict=True)
    ]
    expected = sum(squares) / len(squares)
    assert_close(
        value,
        expected,
        call=call,
        what="loss",
        hint=matching_mistake(
            value,
            [
                (
                    np.array(sum(squares) / shape[0]),
                    f"divided by the number of rows N = {shape[0]}, not by the number of "
                    f"elements M = {len(squares)}"
                    if shape[0] > 1
                    else f"summed (or divided by the number of rows, 1 here), not averaged "
                    f"over all M = {len(squares)} elements",
                ),
                (np.array(sum(squares)), "summed, not averaged"),
            ],
        ),
    )
    loss = impl.losses.MeanSquaredError()
    loss.forward(prediction, target)
    grad = loss.backward()
    n, m = shape[0], prediction.size
    diff = prediction - target
    # named only when the gradient is exactly what the mistake gives (N = M shows nothing)
    slips = [(2 * diff / n, f"divided by the number of rows N = {n}, not by M = {m} elements")]
    if n == m:
        slips = []
    mistake = matching_mistake(grad, slips)
    if mistake is not None:
        assert_close(grad, 2 * diff / m, call=call, what="d(loss)/d(prediction)", hint=mistake)
    check_loss(impl.losses.MeanSquaredError(), prediction, target, call=call)


def test_mean_squared_error_keeps_the_prediction_dtype(impl):
    prediction = np.array([[0.5, 0.25], [1.0, -1.0]], dtype=np.float32)
    target = np.eye(2)  # float64, as one-hot targets often are
    loss = impl.losses.MeanSquaredError()
    value = loss.forward(prediction, target)
    grad = loss.backward()
    call = "MeanSquaredError() on a float32 prediction (2, 2) and a float64 target"
    assert isinstance(grad, np.ndarray) and grad.dtype == np.float32, (
        f"{call}: backward returned {getattr(grad, 'dtype', type(grad))}, expected float32 "
        "(the dtype of the prediction): the difference with a float64 target is float64, "
        "cast the result"
    )
    diff = prediction.astype(np.float64) - target
    assert_close(value, np.mean(diff**2), call=call, what="loss", rtol=1e-6)
    assert_close(grad, 2 * diff / 4, call=call, what="gradient", rtol=1e-6)
    value = loss.forward(prediction, target.astype(np.float32))
    if not isinstance(value, float):
        raise AssertionError(
            "MeanSquaredError().forward on a float32 prediction and a float32 target returned "
            f"{type(value).__name__}, expected a Python float: the mean of a float32 array is "
            "a numpy float32, convert it with float(...)"
        )


def test_mean_squared_error_rejects_different_shapes(impl):
    loss = impl.losses.MeanSquaredError()
    assert_close(
        loss.forward(np.array([[1.0], [2.0]]), np.array([[0.0], [0.0]])),
        2.5,
        call="MeanSquaredError().forward([[1], [2]], [[0], [0]])",
        what="loss",
    )
    with pytest.raises(ValueError, match="shape"):
        loss.forward(np.array([[1.0], [2.0]]), np.array([0.0, 0.0]))
