"""Capstones: the networks of ``models.py``, trained on MNIST, judged by their test accuracy.

Everything under test is the implementation's own (``--impl``): its builders, its layers, its
``training.train_epoch`` and its ``SoftmaxCrossEntropy``. The accuracy itself is counted here
(the argmax of the model's logits against the labels), so a wrong ``evaluate`` cannot pass a
capstone. Each run is seeded: the same implementation always gets the same accuracy.

Before training, a speed guard times a forward and backward pass of the learner's network and of
the reference network, in turns, warm, as medians: when the learner's recipe would train more than
``MAX_SLOWDOWN`` times as long as the reference recipe, the test fails at once and names the slow
layer instead of training for hours. It compares two timings of the same run, never a timing with
a fixed budget, so a busy machine cannot fail it. The accuracy reached
is printed (visible in the terminal, even when pytest captures output) and repeated in any
failure message.

While a capstone trains, a progress line (epoch, batches, running loss and accuracy, time
left) is shown on the terminal. When grading (``--impl exercises``), a capstone's result is
cached (``capstone_cache``, :class:`kata.pytest_plugin.CapstoneCache`): run again with none of
the files it depends on changed, it reports its last result without training (``--retrain``
trains again).
"""

from __future__ import annotations

import math
import sys
import time
from typing import Any

import numpy as np
import pytest

import reference.losses as reference_losses
import reference.models as reference_models

pytest_plugins = ["tests.mnist_fixture"]  # the mnist fixture, loaded once per run
MNIST_MLP = pytest.mark.exercise("mnist_mlp")
LENET5 = pytest.mark.exercise("lenet5")

SEED = 0
MAX_EPOCHS = {"two_layer_net": 3, "mlp": 3, "lenet5": 5}
MAX_SLOWDOWN = 15.0  # the learner's recipe may train this many times as long as the reference's
TIMING_WARMUP = 2
TIMING_REPEATS = 5
EVALUATION_BATCH = 1000
EXERCISE_OF = {"two_layer_net": "mnist_mlp", "mlp": "mnist_mlp", "lenet5": "lenet5"}
LOG_10 = math.log(10)  # the loss of a network that has learned nothing, over 10 classes
THRESHOLDS = {"two_layer_net": 0.90, "mlp": 0.975, "lenet5": 0.988}
INPUT_SHAPES = {"two_layer_net": (784,), "mlp": (784,), "lenet5": (1, 28, 28)}


def build(impl: Any, name: str) -> Any:
    """``impl.models.<name>(default_rng(SEED))``, with the recipe's settings checked."""
    recipe = getattr(impl.models, name)(np.random.default_rng(SEED))
    call = f"models.{name}(np.random.default_rng({SEED}))"
    for field in ("model", "optimizer", "epochs", "batch_size", "input_shape"):
        assert hasattr(recipe, field), f"{call} returned {recipe!r}: a Recipe has no {field!r}"
    most = MAX_EPOCHS[name]
    assert isinstance(recipe.epochs, int) and 1 <= recipe.epochs <= most, (
        f"{call}: epochs={recipe.epochs!r}, expected an int from 1 to {most}: the "
        f"capstone bounds the training time; reach the threshold within {most} epochs"
    )
    assert isinstance(recipe.batch_size, int) and recipe.batch_size >= 1, (
        f"{call}: batch_size={recipe.batch_size!r}, expected a positive int"
    )
    assert tuple(recipe.input_shape) == INPUT_SHAPES[name], (
        f"{call}: input_shape={recipe.input_shape!r}, expected {INPUT_SHAPES[name]} "
        f"({'the image flattened, for Linear' if name != 'lenet5' else 'channels first'})"
    )
    return recipe


def layers_of(model: Any) -> list[Any]:
    return list(getattr(model, "layers", []))


def median(samples: list[float]) -> float:
    return float(np.median(samples))


def step_seconds(loss_fn: Any, recipe: Any, x: np.ndarray, y: np.ndarray) -> float:
    """Seconds of one forward pass, loss and backward pass of ``recipe.model`` on ``(x, y)``."""
    start = time.perf_counter()
    loss_fn.forward(recipe.model.forward(x), y)
    recipe.model.backward(loss_fn.backward())
    return time.perf_counter() - start


def layer_seconds(model: Any, x: np.ndarray) -> list[tuple[float, float]]:
    """(forward seconds, backward seconds) of each layer of ``model`` on the batch ``x``."""
    forward_seconds = []
    for layer in layers_of(model):
        start = time.perf_counter()
        x = layer.forward(x)
        forward_seconds.append(time.perf_counter() - start)
    backward_seconds = []
    dout = np.ones_like(x)
    for layer in reversed(layers_of(model)):
        start = time.perf_counter()
        dout = layer.backward(dout)
        backward_seconds.append(time.perf_counter() - start)
    return list(zip(forward_seconds, reversed(backward_seconds), strict=True))


def alternate(measure_learner: Any, measure_reference: Any) -> tuple[list[Any], list[Any]]:
    """Warm both up, then take ``TIMING_REPEATS`` measurements of each, taking turns, so that
    a load on the machine slows both sides alike."""
    for _ in range(TIMING_WARMUP):
        measure_learner()
        measure_reference()
    learner, reference = [], []
    for _ in range(TIMING_REPEATS):
        learner.append(measure_learner())
        reference.append(measure_reference())
    return learner, reference


def training_seconds(step: float, recipe: Any, examples: int) -> float:
    """The time ``recipe.epochs`` epochs of ``examples`` take at ``step`` seconds a batch."""
    return step * -(-examples // recipe.batch_size) * recipe.epochs


def guard_speed(impl: Any, name: str, learner: Any, trusted: Any, mnist: Any) -> None:
    """Fail at once, naming the slow layer, when the learner's recipe would train more than
    ``MAX_SLOWDOWN`` times as long as the reference recipe.

    ``learner`` is the learner's recipe and ``trusted`` the reference's for the same capstone
    (``name``, which the message names), both built for this check alone: the timed passes run
    in training mode, so they move running statistics. Both are timed in this run, warm, as
    medians of batches taken in turns: the ratio, not a clock budget, so a busy machine slows
    both sides and the verdict stays the same.
    """
    learner_loss = impl.losses.SoftmaxCrossEntropy()
    reference_loss = reference_losses.SoftmaxCrossEntropy()

    def batch(recipe: Any) -> tuple[np.ndarray, np.ndarray]:
        size = recipe.batch_size
        return recipe.inputs(mnist.x_train[:size]), mnist.y_train[:size]

    learner_steps, reference_steps = alternate(
        lambda: step_seconds(learner_loss, learner, *batch(learner)),
        lambda: step_seconds(reference_loss, trusted, *batch(trusted)),
    )
    examples = len(mnist.x_train)
    learner_total = training_seconds(median(learner_steps), learner, examples)
    reference_total = training_seconds(median(reference_steps), trusted, examples)
    ratio = learner_total / reference_total
    if ratio <= MAX_SLOWDOWN:
        return
    learner_layers, reference_layers = alternate(
        lambda: layer_seconds(learner.model, batch(learner)[0]),
        lambda: layer_seconds(trusted.model, batch(trusted)[0]),
    )
    learner_per_layer = np.median(np.array(learner_layers), axis=0)  # (layers, 2)
    reference_per_layer = np.median(np.array(reference_layers), axis=0)
    same_layout = learner_per_layer.shape == reference_per_layer.shape
    lines, slowness = [], []
    for index, layer in enumerate(layers_of(learner.model)):
        forward, backward = learner_per_layer[index]
        line = f"    ({index}) {layer!r:<40} forward {forward:8.4f} s   backward {backward:8.4f} s"
        if same_layout:
            times = reference_per_layer[index].sum()
            slowness.append((forward + backward) / max(times, 1e-9))
            line += f"   ({slowness[-1]:.0f} x the reference's layer)"
        else:
            slowness.append(forward + backward)
        lines.append(line)
    slowest = f"({int(np.argmax(slowness))}) {layers_of(learner.model)[int(np.argmax(slowness))]!r}"
    small_batch = (
        f" Your batch size, {learner.batch_size}, is much smaller than the reference's "
        f"{trusted.batch_size}: each batch pays Python's overhead once, so small batches cost "
        f"more per example."
        if learner.batch_size * 4 <= trusted.batch_size
        else ""
    )
    pytest.fail(
        f"{name}: your recipe would train {ratio:.0f} times as long as the reference recipe "
        f"(bound: {MAX_SLOWDOWN:.0f} x), timed in this run: one forward + backward pass on a "
        f"batch of {learner.batch_size} takes {median(learner_steps):.3f} s (median of "
        f"{TIMING_REPEATS}), so {learner.epochs} epoch(s) would take about "
        f"{learner_total / 60:.1f} min against the reference's {reference_total / 60:.1f} min.\n"
        f"  Time per layer on that batch:\n" + "\n".join(lines) + "\n"
        f"  The slowest is {slowest}: look in it for a Python loop over samples, features or "
        f"output positions, and vectorize it (as the conv exercise does for convolutions)."
        f"{small_batch}",
        pytrace=False,
    )


def accuracy_on(model: Any, x: np.ndarray, y: np.ndarray) -> float:
    """The fraction of ``x`` whose largest logit is the label (evaluation mode, big batches)."""
    model.eval()
    correct = 0
    for start in range(0, len(x), EVALUATION_BATCH):
        logits = np.asarray(model.forward(x[start : start + EVALUATION_BATCH]))
        correct += int((logits.argmax(axis=1) == y[start : start + EVALUATION_BATCH]).sum())
    model.train()
    return correct / len(x)


class TrainingProgress:
    """One line on the terminal, redrawn in place (a plain line every 30 s elsewhere): epoch,
    batches, running loss and accuracy of the epoch, and the time left at the pace so far.

    ``on_batch`` is the hook ``fit_epoch(..., on_batch=...)`` calls after each step.
    """

    def __init__(self, name: str, epochs: int, batches: int, capsys: Any) -> None:
        self.name, self.epochs, self.batches, self.capsys = name, epochs, batches, capsys
        self.epoch, self.done, self.examples, self.loss, self.correct = 1, 0, 0, 0.0, 0
        self.start = self.last = time.perf_counter()
        with capsys.disabled():
            self.tty = sys.stdout.isatty()
        self.every = 0.5 if self.tty else 30.0

    def start_epoch(self, epoch: int) -> None:
        self.epoch, self.done, self.examples, self.loss, self.correct = epoch, 0, 0, 0.0, 0

    def on_batch(self, batch_len: int, loss: float, correct: int) -> None:
        self.done += 1
        self.examples += batch_len
        self.loss += float(loss) * batch_len
        self.correct += int(correct)
        now = time.perf_counter()
        if now - self.last >= self.every:
            self.last = now
            self.draw(now)

    def draw(self, now: float) -> None:
        steps = (self.epoch - 1) * self.batches + self.done
        left = (now - self.start) / max(steps, 1) * (self.epochs * self.batches - steps)
        line = (
            f"[capstone] {self.name}: epoch {self.epoch}/{self.epochs}, batch "
            f"{self.done}/{self.batches}, loss {self.loss / max(self.examples, 1):.4f}, "
            f"accuracy {100 * self.correct / max(self.examples, 1):.2f}%, "
            f"about {f'{left:.0f} s' if left < 120 else f'{left / 60:.1f} min'} left"
        )
        with self.capsys.disabled():
            sys.stdout.write(f"\r{line:<100}" if self.tty else f"\n{line}")
            sys.stdout.flush()

    def close(self) -> None:
        if self.tty and self.done:
            with self.capsys.disabled():
                sys.stdout.write("\r" + " " * 100 + "\r")
                sys.stdout.flush()


def diagnose_training(losses: list[float], accuracy: float, recipe: Any) -> str:
    """What the training losses show, when they show something; empty otherwise."""
    if not all(math.isfinite(loss) for loss in losses):
        return (
            "likely mistake: the training loss became nan or inf, so training diverged: steps "
            "too large (with momentum 0.9 the effective step is 10 x lr), or an overflow in "
            "the loss (the stable softmax subtracts the maximum)."
        )
    if all(abs(loss - LOG_10) < 0.05 for loss in losses):
        return (
            f"likely mistake: every epoch's loss is about log(10) = {LOG_10:.2f}, the loss of "
            "a network that outputs the same for every image: nothing is learned (a learning "
            "rate far too small, or gradients that never reach the parameters)."
        )
    if losses[-1] < 0.1 and accuracy < 0.8:
        return (
            f"likely mistake: the training loss fell to {losses[-1]:.3f} but the test accuracy "
            f"is {100 * accuracy:.1f}%: the network fits the training images yet fails on the "
            "test images, so look at what differs between the two: the evaluation mode "
            f"(model.eval()) and recipe.inputs (input_shape {tuple(recipe.input_shape)})."
        )
    return ""


def run_capstone(
    impl: Any, name: str, mnist: Any, capsys: pytest.CaptureFixture[str], capstone_cache: Any
) -> None:
    """Train ``name``'s recipe on the 50k training images, then judge it on the 10k test set
    (or report the cached result of the same inputs)."""
    recipe = build(impl, name)
    key = capstone_cache.key(impl, EXERCISE_OF[name], recipe=name, epochs=recipe.epochs)
    if capstone_cache.replay(key, capsys):
        return
    trusted = getattr(reference_models, name)(np.random.default_rng(SEED))
    guard_speed(impl, name, build(impl, name), trusted, mnist)
    order_rng = np.random.default_rng(SEED)
    start = time.perf_counter()
    train_losses: list[float] = []
    batches = -(-len(mnist.x_train) // recipe.batch_size)
    progress = TrainingProgress(name, recipe.epochs, batches, capsys)
    try:
        for epoch in range(1, recipe.epochs + 1):
            progress.start_epoch(epoch)
            metrics = impl.models.fit_epoch(
                recipe, mnist.x_train, mnist.y_train, order_rng, on_batch=progress.on_batch
            )
            train_losses.append(float(metrics.loss))
    finally:
        progress.close()
    accuracy = accuracy_on(recipe.model, recipe.inputs(mnist.x_test), mnist.y_test)
    seconds = time.perf_counter() - start
    threshold = THRESHOLDS[name]
    shown_losses = ", ".join(f"{loss:.4f}" for loss in train_losses)
    report = (
        f"{name}: test accuracy {100 * accuracy:.2f}% after {recipe.epochs} epoch(s) "
        f"(threshold {100 * threshold:.1f}%; training loss per epoch {shown_losses}; "
        f"{seconds:.1f} s)"
    )
    with capsys.disabled():
        print(f"\n[capstone] {report}")
    passed = accuracy >= threshold
    message = report
    if not passed:
        diagnosis = diagnose_training(train_losses, accuracy, recipe)
        message = f"{report}.\n  Below the threshold." + (f"\n  {diagnosis}" if diagnosis else "")
    capstone_cache.store(key, passed=passed, report=message)
    assert passed, message


@MNIST_MLP
def test_two_layer_net_reaches_90_percent(impl, mnist, capsys, capstone_cache):
    run_capstone(impl, "two_layer_net", mnist, capsys, capstone_cache)


@MNIST_MLP
def test_mlp_reaches_97_5_percent_within_3_epochs(impl, mnist, capsys, capstone_cache):
    run_capstone(impl, "mlp", mnist, capsys, capstone_cache)


@LENET5
def test_lenet5_keeps_activations_and_gradients_of_order_one(impl, mnist):
    """At initialization, every layer's output and input gradient has a standard deviation
    within a bounded factor of one: the point of He initialization."""
    recipe = build(impl, "lenet5")
    layers = layers_of(recipe.model)
    assert len(layers) >= 5, (
        f"models.lenet5(...).model has {len(layers)} layers in .layers, expected the 12 of "
        f"LeNet-5 (conv, ReLU, pool, conv, ReLU, pool, flatten, 3 Linear with 2 ReLU)"
    )
    x = mnist.x_train[:256]
    problems = []
    for layer in layers:
        x = layer.forward(x)
        std = float(np.std(x))
        if not 0.1 <= std <= 10.0:
            problems.append(f"output of {layer!r}: std {std:.3g}, expected within [0.1, 10]")
    dout = np.random.default_rng(SEED).standard_normal(x.shape).astype(x.dtype)
    for layer in reversed(layers):
        dout = layer.backward(dout)
        std = float(np.std(dout))
        if not 1e-2 <= std <= 1e2:
            problems.append(
                f"gradient w.r.t. the input of {layer!r}: std {std:.3g} for an upstream "
                f"gradient of std 1 at the logits, expected within [0.01, 100]"
            )
    assert not problems, (
        "models.lenet5(np.random.default_rng(0)) on 256 MNIST images:\n  "
        + "\n  ".join(problems + misscaled_weights(layers))
    )


def misscaled_weights(layers: list[Any]) -> list[str]:
    """A line for each layer whose weights' standard deviation is off He's sqrt(2 / fan_in)
    by more than a factor of 2 (the numbers that confirm a wrong initialization)."""
    lines = []
    for layer in layers:
        weight = getattr(layer, "params", {}).get("W")
        if weight is None or weight.ndim not in (2, 4):
            continue
        fan_in = weight.shape[0] if weight.ndim == 2 else int(np.prod(weight.shape[1:]))
        he = math.sqrt(2.0 / fan_in)
        std = float(np.std(weight))
        if not 0.5 <= std / he <= 2.0:
            lines.append(
                f"likely mistake: the weights of {layer!r} have std {std:.3g}, He "
                f"initialization gives sqrt(2 / fan_in) = {he:.3g} (fan_in = {fan_in}): "
                "activations then grow or shrink by that factor at every layer"
            )
    return lines


@LENET5
def test_lenet5_reaches_98_8_percent_within_5_epochs(impl, mnist, capsys, capstone_cache):
    run_capstone(impl, "lenet5", mnist, capsys, capstone_cache)
