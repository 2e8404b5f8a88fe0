"""Capstone ``mnist_regularized``: an MLP with batch normalization and dropout on MNIST.

The bar is the plain MLP capstone's (``tests/test_models.py``): its threshold and its epoch
limit, read from there, so that the regularized network must do at least as well in no more
epochs. The helpers of that file (the speed guard, the accuracy count in evaluation mode)
are reused by import; what differs is the builder, ``regularized.regularized_mlp``, and the
check that the network really holds a ``BatchNorm1d`` and a ``Dropout`` of the implementation.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest

import reference.regularized as reference_regularized
from tests.test_models import MAX_EPOCHS, SEED, THRESHOLDS, accuracy_on, guard_speed, layers_of

pytest_plugins = ["tests.mnist_fixture"]  # the mnist fixture, loaded once per run
pytestmark = pytest.mark.exercise("mnist_regularized")

BAR = "mlp"  # the capstone whose threshold and epoch limit this one must meet
CALL = f"regularized.regularized_mlp(np.random.default_rng({SEED}))"


def build(impl: Any) -> Any:
    """The learner's recipe, with its settings and its layers checked."""
    recipe = impl.regularized.regularized_mlp(np.random.default_rng(SEED))
    for field in ("model", "optimizer", "epochs", "batch_size", "input_shape"):
        assert hasattr(recipe, field), f"{CALL} returned {recipe!r}: a Recipe has no {field!r}"
    most = MAX_EPOCHS[BAR]
    assert isinstance(recipe.epochs, int) and 1 <= recipe.epochs <= most, (
        f"{CALL}: epochs={recipe.epochs!r}, expected an int from 1 to {most}: no more epochs "
        "than the plain MLP capstone"
    )
    assert isinstance(recipe.batch_size, int) and recipe.batch_size >= 2, (
        f"{CALL}: batch_size={recipe.batch_size!r}, expected an int >= 2 (batch "
        "normalization needs more than one sample)"
    )
    assert tuple(recipe.input_shape) == (784,), (
        f"{CALL}: input_shape={recipe.input_shape!r}, expected (784,) (the image flattened)"
    )
    layers = layers_of(recipe.model)
    for kind, module in [("BatchNorm1d", impl.normalization), ("Dropout", impl.dropout)]:
        assert any(isinstance(layer, getattr(module, kind)) for layer in layers), (
            f"{CALL}: the model's layers are {layers!r}, with no {kind}: this capstone is "
            f"the MLP with batch normalization and dropout"
        )
    return recipe


def test_regularized_mlp_reaches_the_mlp_threshold_within_its_epochs(
    impl, mnist, capsys, capstone_cache
):
    recipe = build(impl)
    key = capstone_cache.key(impl, "mnist_regularized", recipe="regularized", epochs=recipe.epochs)
    if capstone_cache.replay(key, capsys):
        return
    trusted = reference_regularized.regularized_mlp(np.random.default_rng(SEED))
    guard_speed(impl, "mnist_regularized", recipe, trusted, mnist)
    recipe = build(impl)  # a fresh network: the timed batches moved the running statistics
    order_rng = np.random.default_rng(SEED)
    start = time.perf_counter()
    losses = []
    for _ in range(recipe.epochs):
        metrics = impl.models.fit_epoch(recipe, mnist.x_train, mnist.y_train, order_rng)
        losses.append(float(metrics.loss))
    accuracy = accuracy_on(recipe.model, recipe.inputs(mnist.x_test), mnist.y_test)
    seconds = time.perf_counter() - start
    threshold = THRESHOLDS[BAR]
    report = (
        f"regularized_mlp: test accuracy {100 * accuracy:.2f}% after {recipe.epochs} epoch(s) "
        f"(threshold {100 * threshold:.1f}%, the plain MLP's; training loss per epoch "
        f"{', '.join(f'{loss:.4f}' for loss in losses)}; {seconds:.1f} s)"
    )
    with capsys.disabled():
        print(f"\n[capstone] {report}")
    message = (
        f"{report}.\n  Below the threshold. A training loss that falls while the test accuracy "
        "stays low points at evaluation mode: dropout must be off and batch normalization must "
        "use its running statistics after eval()."
    )
    capstone_cache.store(key, passed=accuracy >= threshold, report=message)
    assert accuracy >= threshold, message
