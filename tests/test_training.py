"""Judge of the ``training`` exercise: ``train_epoch`` and ``evaluate``.

The model, the loss and the optimizer are toys written here, which record what they are given:
the input of example ``i`` is the number ``i`` (``x = np.arange(n).reshape(n, 1)``), so the
model knows which examples each batch holds; its scores come from a table, one row per example.
The toy loss of a batch is the mean of ``score[i, label_i]``, so the loss of every example is
known in advance, whatever the order of the batches.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from kata.judge import assert_unchanged
from toolkit.layer import Layer

pytestmark = pytest.mark.exercise("training")

Log = list[tuple]


# --------------------------------------------------------------------------- toys


class TableModel(Layer):
    """Example i (input [i]) scores table[i] + bias; records batches, modes, calls."""

    def __init__(self, table: np.ndarray, log: Log) -> None:
        super().__init__()
        self.table = table
        self.log = log
        self.params["bias"] = np.zeros(table.shape[1])
        self.batches: list[np.ndarray] = []
        self.modes: list[bool] = []
        self.received: list[np.ndarray] = []

    def forward(self, x: np.ndarray) -> np.ndarray:
        indices = x[:, 0].astype(int)
        self.batches.append(indices)
        self.modes.append(self.training)
        self.log.append(("forward", len(indices)))
        self.x_shape = x.shape
        return self.table[indices] + self.params["bias"]

    def backward(self, dout: np.ndarray) -> np.ndarray:
        self.log.append(("model.backward", len(dout)))
        self.received.append(dout)
        self.grads["bias"] = dout.sum(axis=0)
        return np.zeros(self.x_shape)

    def seen(self) -> np.ndarray:
        return np.concatenate(self.batches) if self.batches else np.array([], dtype=int)


class PickLoss:
    """Mean over the batch of prediction[i, target_i]; its gradient is 1/B at those places."""

    def __init__(self, log: Log) -> None:
        self.log = log
        self.values: list[float] = []
        self.targets: list[np.ndarray] = []
        self.returned: list[np.ndarray] = []

    def forward(self, prediction: np.ndarray, target: np.ndarray) -> float:
        self.log.append(("loss", len(target)))
        self.shape, self.target = prediction.shape, target
        self.targets.append(target)
        value = float(np.mean(prediction[np.arange(len(target)), target]))
        self.values.append(value)
        return value

    def backward(self) -> np.ndarray:
        self.log.append(("loss.backward", len(self.target)))
        grad = np.zeros(self.shape)
        grad[np.arange(len(self.target)), self.target] = 1.0 / len(self.target)
        self.returned.append(grad)
        return grad


class SpyOptimizer:
    """Records each step's arguments; changes nothing."""

    def __init__(self, log: Log) -> None:
        self.log = log
        self.calls: list[tuple[dict, dict]] = []

    def step(self, params: dict, grads: dict) -> None:
        self.log.append(("step",))
        self.calls.append((dict(params), dict(grads)))


class Setup:
    """n examples, C classes: the inputs, labels, score table, and the recording toys."""

    def __init__(self, n: int, classes: int = 3, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.n = n
        self.x = np.arange(n, dtype=np.float64).reshape(n, 1)
        self.y = rng.integers(0, classes, size=n)
        self.table = rng.uniform(0.0, 1.0, size=(n, classes))
        self.log: Log = []
        self.model = TableModel(self.table, self.log)
        self.loss = PickLoss(self.log)
        self.optimizer = SpyOptimizer(self.log)
        self.reports: list[tuple[int, float, int]] = []

    def on_batch(self, batch_len: int, loss: float, correct: int) -> None:
        self.log.append(("on_batch", batch_len))
        self.reports.append((batch_len, loss, correct))

    def train(self, impl, *, batch_size: int, seed: int = 0, rng=None, on_batch=True):
        return impl.training.train_epoch(
            self.model,
            self.loss,
            self.optimizer,
            self.x,
            self.y,
            batch_size=batch_size,
            rng=np.random.default_rng(seed) if rng is None else rng,
            on_batch=self.on_batch if on_batch else None,
        )

    def evaluate(self, impl, **kwargs):
        return impl.training.evaluate(self.model, self.loss, self.x, self.y, **kwargs)

    def example_losses(self) -> np.ndarray:
        return self.table[np.arange(self.n), self.y]

    def accuracy(self) -> float:
        return float(np.mean(self.table.argmax(axis=1) == self.y))


def train_call(setup: Setup, batch_size: int) -> str:
    return (
        f"train_epoch(model, loss, optimizer, x, y, batch_size={batch_size}, rng) "
        f"on {setup.n} examples"
    )


def check_metrics(result, impl, call: str) -> None:
    assert isinstance(result, impl.training.Metrics), (
        f"{call} returned {result!r}, expected Metrics(loss=..., accuracy=...)"
    )
    for field in ("loss", "accuracy"):
        value = getattr(result, field)
        assert isinstance(value, float), (
            f"{call} returned Metrics.{field} = {value!r} of type {type(value).__name__}, "
            "expected a Python float"
        )


def coverage_hint(setup: Setup) -> str:
    """A hint when the batches the model saw do not cover every example once, else ''."""
    seen = sum(len(batch) for batch in setup.model.batches)
    if seen == setup.n:
        return ""
    return (
        f"\nlikely mistake: the batches held {seen} examples in all, not the {setup.n} of x: "
        "every example once per epoch, the last partial batch included"
    )


def loss_weighting_hint(got: float, setup: Setup) -> str:
    """The mistake that explains the epoch loss ``got``, when one does, else ''."""
    coverage = coverage_hint(setup)
    if coverage or not setup.model.batches:
        return coverage
    sizes = [len(batch) for batch in setup.model.batches]
    losses = setup.example_losses()
    batch_means = [float(losses[batch].mean()) for batch in setup.model.batches]
    if math.isclose(got, float(np.mean(batch_means)), rel_tol=1e-9):
        return (
            "\nlikely mistake: the plain mean of the batch losses, a mean over batches, not "
            "over examples: the last, smaller batch counts as much as a full one "
            "(nox -s hint -- training)"
        )
    if math.isclose(got, sum(batch_means) * max(sizes) / setup.n, rel_tol=1e-9):
        return (
            "\nlikely mistake: every batch loss weighted by batch_size: the last batch holds "
            "fewer examples, and its weight is the number it holds"
        )
    return ""


def check_loss_weighting(got: float, setup: Setup, call: str) -> None:
    expected = float(setup.example_losses().mean())
    assert math.isclose(got, expected, rel_tol=1e-9), (
        f"{call} returned loss {got!r}, expected the mean loss per example, {expected!r}"
        f"{loss_weighting_hint(got, setup)}"
    )


# --------------------------------------------------------------------------- train_epoch


def test_every_example_once_per_epoch_including_the_last_partial_batch(impl) -> None:
    setup = Setup(23)
    setup.train(impl, batch_size=5)
    sizes = [len(batch) for batch in setup.model.batches]
    call = train_call(setup, 5)
    hint = "the last, partial batch is kept"
    if sorted(sizes) == sorted([5, 5, 5, 5, 3] * 2):
        hint = (
            "two forward passes per batch: count the accuracy on the output of the training "
            "forward (before the step), do not run the model again"
        )
    assert sorted(sizes, reverse=True) == [5, 5, 5, 5, 3], (
        f"{call} made forward passes on batches of sizes {sizes}, expected four of 5 and one "
        f"of 3 ({hint})"
    )
    seen = np.sort(setup.model.seen())
    assert np.array_equal(seen, np.arange(23)), (
        f"{call} saw the examples {seen.tolist()}, expected each of 0..22 exactly once\n"
        "likely mistake: drawing indices with replacement (rng.integers, rng.choice) or "
        "dropping the last batch; use a permutation"
    )


@pytest.mark.parametrize("function", ["train_epoch", "evaluate"])
def test_x_and_y_are_not_modified(impl, function: str) -> None:
    setup = Setup(12)
    x_before, y_before = setup.x.copy(), setup.y.copy()
    if function == "train_epoch":
        setup.train(impl, batch_size=5)
    else:
        setup.evaluate(impl, batch_size=5)
    call = f"{function}(..., x, y, batch_size=5) on 12 examples"
    try:
        assert_unchanged(x_before, setup.x, call=call, what="x")
        assert_unchanged(y_before, setup.y, call=call, what="y")
    except AssertionError as error:
        raise AssertionError(
            f"{error}\nhere, probably: shuffling in place (rng.shuffle(x), x[:] = x[order]); "
            "train_epoch and evaluate must leave the caller's arrays as they were"
        ) from None


def test_labels_follow_their_examples(impl) -> None:
    setup = Setup(17)
    setup.train(impl, batch_size=4)
    for batch, target in zip(setup.model.batches, setup.loss.targets, strict=True):
        assert np.array_equal(target, setup.y[batch]), (
            f"{train_call(setup, 4)}: the batch of examples {batch.tolist()} came to the loss "
            f"with labels {target.tolist()}, expected y[batch] = {setup.y[batch].tolist()}\n"
            "likely mistake: x and y shuffled separately; index both with the same batch"
        )


def test_the_order_is_a_fresh_permutation_from_the_generator(impl) -> None:
    orders = {}
    for seed in (0, 0, 1):
        setup = Setup(40)
        setup.train(impl, batch_size=7, seed=seed)
        orders.setdefault(seed, []).append(setup.model.seen())
        batches = setup.model.batches
    call = "train_epoch(..., batch_size=7, rng=np.random.default_rng(seed)) on 40 examples"
    first, again = orders[0]
    assert not np.array_equal(first, np.arange(40)), (
        f"{call} visited the examples in order 0, 1, 2, ...: shuffle them with rng.permutation"
    )
    assert any(np.any(np.diff(np.sort(batch)) != 1) for batch in batches), (
        f"{call} made batches of consecutive examples (only the batches were shuffled): "
        "shuffle the examples themselves, with a permutation of all the indices"
    )
    assert np.array_equal(first, again), (
        f"{call} twice with seed 0 visited the examples in different orders: draw the "
        "permutation from rng, not from np.random"
    )
    assert not np.array_equal(first, orders[1][0]), (
        f"{call} with seeds 0 and 1 visited the examples in the same order: draw the "
        "permutation from the rng argument"
    )


def test_each_epoch_draws_a_new_order(impl) -> None:
    setup = Setup(30)
    rng = np.random.default_rng(4)
    setup.train(impl, batch_size=8, rng=rng)
    first = setup.model.seen()
    setup.model.batches.clear()
    setup.train(impl, batch_size=8, rng=rng)
    second = setup.model.seen()
    assert not np.array_equal(first, second), (
        "two epochs of train_epoch(..., batch_size=8, rng) with the same generator visited "
        "the examples in the same order: draw a new permutation from rng at every epoch"
    )


CALL_NAMES = {
    "forward": "model.forward",
    "loss": "loss_fn.forward",
    "loss.backward": "loss_fn.backward",
    "model.backward": "model.backward",
    "step": "optimizer.step",
    "on_batch": "on_batch",
}
"""The calls of the recording fakes' log, by the names the learner's code uses."""


def first_difference(calls: list[tuple], expected: list[tuple]) -> str:
    """Where the calls made first depart from the calls expected, in one line."""

    def name(entry: tuple) -> str:
        return CALL_NAMES.get(entry[0], str(entry[0]))

    def batch(index: int) -> int:
        return index // len(CALL_NAMES) + 1

    for index, (made, wanted) in enumerate(zip(calls, expected, strict=False)):
        start = index - index % len(CALL_NAMES)
        batch_calls = [entry[0] for entry in expected[start : start + len(CALL_NAMES)]]
        if made[0] != wanted[0] and made[0] in batch_calls[index - start :]:
            skipped = batch_calls[index - start : batch_calls.index(made[0])]
            before = " and ".join(CALL_NAMES.get(call, call) for call in skipped)
            return (
                f"{name(made)} was called before {before} in batch {batch(index)} "
                f"(call {index + 1})"
            )
        if made[0] != wanted[0]:
            return (
                f"in batch {batch(index)}, {name(made)} was called where {name(wanted)} "
                f"was expected (call {index + 1})"
            )
        if made != wanted:
            return (
                f"in batch {batch(index)}, {name(made)} got {made[1]} examples, expected "
                f"{wanted[1]} (call {index + 1})"
            )
    if len(calls) < len(expected):
        missing = len(calls)
        return (
            f"the calls stop after {missing}: {name(expected[missing])} of batch "
            f"{batch(missing)} was never called"
        )
    return f"{len(calls) - len(expected)} calls more than expected, from {calls[len(expected)]}"


@pytest.mark.parametrize(("n", "batch_size"), [(23, 5), (20, 5), (7, 1), (6, 50)])
def test_one_optimizer_step_after_each_backward(impl, n: int, batch_size: int) -> None:
    setup = Setup(n)
    setup.train(impl, batch_size=batch_size)
    call = train_call(setup, batch_size)
    steps = math.ceil(n / batch_size)
    expected = []
    for batch in setup.model.batches:
        size = len(batch)
        expected += [
            ("forward", size),
            ("loss", size),
            ("loss.backward", size),
            ("model.backward", size),
            ("step",),
            ("on_batch", size),
        ]
    assert len(setup.model.batches) == steps and setup.log == expected, (
        f"{call}: {first_difference(setup.log, expected)}\n"
        f"expected {steps} batches (ceil({n} / {batch_size})), each: model.forward, "
        "loss_fn.forward, loss_fn.backward, model.backward, optimizer.step, on_batch\n"
        f"the calls made: {setup.log}"
    )
    for dout, returned in zip(setup.model.received, setup.loss.returned, strict=True):
        assert dout is returned, (
            f"{call}: model.backward did not receive the array loss_fn.backward() returned"
        )
    for (params, grads), dout in zip(setup.optimizer.calls, setup.model.received, strict=True):
        assert params.keys() == {"bias"} and params["bias"] is setup.model.params["bias"], (
            f"{call}: optimizer.step was not given model.params (got keys {list(params)})"
        )
        assert "bias" in grads and np.array_equal(grads["bias"], dout.sum(axis=0)), (
            f"{call}: optimizer.step was not given the gradients of this batch's backward "
            "(model.grads, after model.backward)"
        )


@pytest.mark.parametrize(("n", "batch_size"), [(10, 4), (23, 5), (9, 2), (5, 5)])
def test_the_loss_is_the_mean_per_example(impl, n: int, batch_size: int) -> None:
    setup = Setup(n, seed=n)
    call = train_call(setup, batch_size)
    result = setup.train(impl, batch_size=batch_size)
    check_metrics(result, impl, call)
    check_loss_weighting(result.loss, setup, call)


@pytest.mark.parametrize("batch_size", [1, 4, 13, 100])
def test_the_accuracy_counts_every_example(impl, batch_size: int) -> None:
    setup = Setup(13, classes=4, seed=2)
    expected = setup.accuracy()
    assert 0 < expected < 1  # the table has right and wrong predictions
    call = train_call(setup, batch_size)
    result = setup.train(impl, batch_size=batch_size)
    check_metrics(result, impl, call)
    assert math.isclose(result.accuracy, expected, rel_tol=1e-12), (
        f"{call} returned accuracy {result.accuracy!r}, expected {expected!r} "
        f"({round(expected * 13)} of the 13 examples have their label as highest score)"
        + (
            coverage_hint(setup)
            or "\nlikely mistake: argmax over the wrong axis (axis=1: the classes), the "
            "accuracy of the last batch only, or a mean of batch accuracies"
        )
    )


def test_on_batch_reports_each_batch_size_loss_and_correct_count(impl) -> None:
    setup = Setup(11)
    setup.train(impl, batch_size=4)
    expected = [
        (len(batch), value, int(np.sum(setup.table[batch].argmax(axis=1) == setup.y[batch])))
        for batch, value in zip(setup.model.batches, setup.loss.values, strict=True)
    ]
    assert setup.reports == expected, (
        f"{train_call(setup, 4)} called on_batch with {setup.reports}, expected "
        f"on_batch(len(batch), batch_loss, batch_correct) after each step: {expected}"
    )


def test_on_batch_is_optional(impl) -> None:
    setup = Setup(9)
    result = setup.train(impl, batch_size=4, on_batch=False)
    check_loss_weighting(result.loss, setup, "train_epoch(..., batch_size=4, rng) without on_batch")


def test_train_epoch_trains_in_training_mode(impl) -> None:
    setup = Setup(12)
    setup.model.eval()
    setup.train(impl, batch_size=5)
    assert setup.model.modes and all(setup.model.modes), (
        f"{train_call(setup, 5)} on a model left in evaluation mode ran forward with "
        f"training = {setup.model.modes}: call model.train() first (dropout must be on)"
    )


# --------------------------------------------------------------------------- evaluate


def test_evaluate_neither_trains_nor_changes_the_model(impl) -> None:
    setup = Setup(14)
    setup.model.params["bias"][:] = [0.1, -0.2, 0.3]
    before = setup.model.params["bias"].copy()
    setup.evaluate(impl, batch_size=4)
    calls = [name for name, *_ in setup.log]
    assert "model.backward" not in calls and "loss.backward" not in calls, (
        f"evaluate(model, loss, x, y, batch_size=4) made the calls {calls}: no backward pass "
        "when evaluating"
    )
    assert_unchanged(before, setup.model.params["bias"], call="evaluate", what="model parameters")
    assert setup.model.modes and not any(setup.model.modes), (
        f"evaluate ran forward with training = {setup.model.modes}: call model.eval() first "
        "(dropout must be off)"
    )


@pytest.mark.parametrize(("n", "batch_size"), [(14, 4), (10, 10), (3, 8), (25, 6)])
def test_evaluate_is_batched_and_weighted(impl, n: int, batch_size: int) -> None:
    setup = Setup(n, seed=n + 1)
    call = f"evaluate(model, loss, x, y, batch_size={batch_size}) on {n} examples"
    result = setup.evaluate(impl, batch_size=batch_size)
    check_metrics(result, impl, call)
    sizes = [len(batch) for batch in setup.model.batches]
    assert len(sizes) == math.ceil(n / batch_size) and max(sizes) <= batch_size, (
        f"{call} made forward passes on batches of sizes {sizes}, expected "
        f"ceil({n} / {batch_size}) batches of at most {batch_size}"
    )
    assert np.array_equal(np.sort(setup.model.seen()), np.arange(n)), (
        f"{call} saw the examples {setup.model.seen().tolist()}, expected each once"
    )
    check_loss_weighting(result.loss, setup, call)
    assert math.isclose(result.accuracy, setup.accuracy(), rel_tol=1e-12), (
        f"{call} returned accuracy {result.accuracy!r}, expected {setup.accuracy()!r}"
    )


def test_evaluate_uses_batches_of_1000_by_default(impl) -> None:
    setup = Setup(2500)
    setup.evaluate(impl)
    sizes = sorted((len(batch) for batch in setup.model.batches), reverse=True)
    assert sizes == [1000, 1000, 500], (
        f"evaluate(model, loss, x, y) on 2500 examples made forward passes of sizes {sizes}, "
        "expected 1000, 1000, 500 (batch_size=1000 by default)"
    )


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize("function", ["train_epoch", "evaluate"])
def test_bad_batch_sizes_and_mismatched_lengths_are_refused(impl, function: str) -> None:
    setup = Setup(6)

    def call(x, y, batch_size):
        if function == "train_epoch":
            return impl.training.train_epoch(
                setup.model,
                setup.loss,
                setup.optimizer,
                x,
                y,
                batch_size=batch_size,
                rng=np.random.default_rng(0),
            )
        return impl.training.evaluate(setup.model, setup.loss, x, y, batch_size=batch_size)

    cases = [
        ((setup.x, setup.y, 0), "batch_size"),
        ((setup.x, setup.y, -2), "batch_size"),
        ((setup.x, setup.y, 2.5), "batch_size"),
        ((setup.x, setup.y[:5], 2), "len"),
        ((setup.x[:4], setup.y, 2), "len"),
    ]
    for (x, y, batch_size), word in cases:
        description = (
            f"{function}(..., x of length {len(x)}, y of length {len(y)}, "
            f"batch_size={batch_size!r})"
        )
        try:
            call(x, y, batch_size)
        except ValueError as error:
            assert word in str(error), (
                f"{description} raised ValueError({str(error)!r}): the message should name {word}"
            )
        else:
            raise AssertionError(
                f"{description} raised nothing: expected a ValueError (call check_dataset first)"
            )
    assert not setup.optimizer.calls, f"{function} stepped the optimizer on invalid arguments"
