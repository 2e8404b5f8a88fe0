"""Capstone ``mnist_autograd``: the MLP of the ``mlp`` capstone, trained through Tensors.

The network is the implementation's ``TensorMLP``, its gradients come from the implementation's
``Tensor.backward``, its steps from the implementation's ``SGD``; the training loop is the given
``fit_epoch``. The recipe is that of ``reference.models.mlp``: 784-1024-10, SGD with lr 0.05 and
momentum 0.9, batches of 128, 3 epochs, the learning rate halved after each epoch, shifts of
up to one pixel; the threshold is the ``mlp`` capstone's. The accuracy is counted here (the
argmax of the logits against the labels), seeded, and printed.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from kata.judge import assert_close
from tests.test_models import MAX_EPOCHS, SEED, THRESHOLDS

pytest_plugins = ["tests.mnist_fixture"]  # the mnist fixture, loaded once per run
pytestmark = pytest.mark.exercise("mnist_autograd")

SIZES = [784, 1024, 10]
EPOCHS = MAX_EPOCHS["mlp"]
THRESHOLD = THRESHOLDS["mlp"]
EVALUATION_BATCH = 1000


def test_tensor_mlp_shapes_dtypes_and_forward(impl):
    rng = np.random.default_rng(1)
    model = impl.tensor_autograd.TensorMLP([5, 7, 3], rng=rng, dtype=np.float64)
    names = list(model.params)
    assert names == ["0.W", "0.b", "2.W", "2.b"], (
        f"TensorMLP([5, 7, 3]).params has the names {names}, expected ['0.W', '0.b', '2.W', '2.b']"
    )
    shapes = {name: array.shape for name, array in model.params.items()}
    expected = {"0.W": (5, 7), "0.b": (7,), "2.W": (7, 3), "2.b": (3,)}
    assert shapes == expected, (
        f"TensorMLP([5, 7, 3]): parameter shapes {shapes}, expected {expected}"
    )
    for name, array in model.params.items():
        assert array.dtype == np.float64, f"TensorMLP(..., dtype=float64): {name} is {array.dtype}"
        if name.endswith("b"):
            assert np.all(array == 0), f"TensorMLP([5, 7, 3]): {name} must start at zero"
    for array in model.params.values():
        array[...] = rng.normal(size=array.shape)
    x = rng.normal(size=(4, 5))
    p = model.params
    hidden = np.maximum(x @ p["0.W"] + p["0.b"], 0.0)
    logits = model(x)
    assert_close(
        logits.data, hidden @ p["2.W"] + p["2.b"], call="TensorMLP([5, 7, 3])(x) with x (4, 5)"
    )
    logits.cross_entropy(np.array([0, 1, 2, 0])).backward()
    for name, grad in model.grads.items():
        assert grad.shape == p[name].shape and np.any(grad != 0), (
            f"TensorMLP([5, 7, 3]): after backward, the gradient of {name} is "
            f"{'zero' if grad.shape == p[name].shape else f'of shape {grad.shape}'}: the logits' "
            "graph must reach every weight"
        )


def test_tensor_mlp_initialization_has_the_he_scale(impl):
    model = impl.tensor_autograd.TensorMLP(SIZES, rng=np.random.default_rng(SEED))
    for name, fan_in, variance in [("0.W", 784, 2 / 784), ("2.W", 1024, 1 / 1024)]:
        std = float(np.std(model.params[name]))
        assert 0.8 < std / np.sqrt(variance) < 1.2, (
            f"TensorMLP({SIZES}): {name} has standard deviation {std:.4f}, expected about "
            f"{np.sqrt(variance):.4f} (fan_in {fan_in}: He before a ReLU, LeCun for the logits)"
        )
        assert model.params[name].dtype == np.float32, (
            f"TensorMLP({SIZES}) by default: {name} has dtype {model.params[name].dtype}, "
            "expected float32 (the dtype of the images)"
        )


def test_the_mlp_through_tensors_reaches_the_mlp_threshold(impl, mnist, capsys, capstone_cache):
    key = capstone_cache.key(impl, "mnist_autograd", recipe="mnist_autograd", epochs=EPOCHS)
    if capstone_cache.replay(key, capsys):
        return
    model = impl.tensor_autograd.TensorMLP(SIZES, rng=np.random.default_rng(SEED))
    optimizer = impl.optim.SGD(lr=0.05, momentum=0.9)
    order_rng = np.random.default_rng(SEED)
    start = time.perf_counter()
    losses = []
    for _ in range(EPOCHS):
        loss = impl.tensor_autograd.fit_epoch(
            model, optimizer, mnist.x_train, mnist.y_train, order_rng, batch_size=128
        )
        losses.append(f"{loss:.4f}")
    x_test = mnist.x_test.reshape(len(mnist.x_test), -1)
    correct = 0
    for i in range(0, len(x_test), EVALUATION_BATCH):
        logits = np.asarray(model(x_test[i : i + EVALUATION_BATCH]).data)
        correct += int((logits.argmax(axis=1) == mnist.y_test[i : i + EVALUATION_BATCH]).sum())
    accuracy = correct / len(x_test)
    report = (
        f"mnist_autograd: TensorMLP({SIZES}) test accuracy {100 * accuracy:.2f}% after {EPOCHS} "
        f"epochs (threshold {100 * THRESHOLD:.1f}%; training loss per epoch "
        f"{', '.join(losses)}; {time.perf_counter() - start:.1f} s)"
    )
    with capsys.disabled():
        print(f"\n[capstone] {report}")
    message = (
        f"{report}.\n  Below the threshold: the recipe is that of the mlp capstone, which reaches "
        "it with layers written by hand, so the difference is in the Tensors. A first loss near "
        "2.30 = log(10): nothing is learned (gradients of zero: is every weight in the graph?); "
        "nan: the cross-entropy overflows or the initialization is too large."
    )
    capstone_cache.store(key, passed=accuracy >= THRESHOLD, report=message)
    assert accuracy >= THRESHOLD, message
