"""A float32 training step of the reference stays float32 in every array it makes.

numpy promotes without a word: a float64 array (``np.zeros(shape)``, ``np.eye(C)``), or a
float64 numpy scalar, anywhere in a float32 step turns what it touches into float64, doubles the
memory traffic and halves the speed of BLAS. These tests run training steps of the reference
networks in float32 under a tracer that, at every return from a function of ``reference/``,
reads every local variable and the returned value, and then read every array the layers, the
loss and the optimizer keep: each floating array, and each numpy floating scalar, must be
float32. (Temporaries that are never bound to a name are not seen; the names around them
are.)
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np
import pytest

import reference
from reference.activations import ReLU
from reference.losses import SoftmaxCrossEntropy
from reference.models import NETWORKS
from reference.network import Sequential
from reference.optim import SGD, Adam, Optimizer
from toolkit.layer import Layer

REFERENCE_DIR = str(Path(reference.__file__).resolve().parent)

Found = list[tuple[str, str]]  # (where, what) of every array that is not float32


def _not_float32(value: Any) -> str | None:
    """The dtype of ``value`` when it is floating data that is not float32, else None."""
    floating = isinstance(value, np.ndarray | np.floating) and np.issubdtype(
        value.dtype, np.floating
    )
    return (
        f"{type(value).__name__} of dtype {value.dtype}"
        if floating and value.dtype != np.float32
        else None
    )


def _arrays(value: Any, name: str, depth: int = 0) -> Iterator[tuple[str, Any]]:
    """``value`` and what it holds (dictionaries, lists, tuples), named as a path."""
    yield name, value
    if depth > 3:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _arrays(item, f"{name}[{key!r}]", depth + 1)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _arrays(item, f"{name}[{index}]", depth + 1)


def _trace_float32(found: Found, roots: tuple[str, ...]) -> Callable[[FrameType, str, Any], Any]:
    """A ``sys.settrace`` hook that records every non-float32 local and result of the
    functions defined in a file under one of ``roots``."""

    def local(frame: FrameType, event: str, argument: Any) -> Any:
        if event == "return":
            where = f"{Path(frame.f_code.co_filename).name}:{frame.f_code.co_qualname}"
            for name, value in list(frame.f_locals.items()):
                for path, item in _arrays(value, name):
                    problem = _not_float32(item)
                    if problem:
                        found.append((where, f"local {path} is a {problem}"))
            for path, item in _arrays(argument, "the result"):
                problem = _not_float32(item)
                if problem:
                    found.append((where, f"{path} is a {problem}"))
        return local

    def call(frame: FrameType, event: str, argument: Any) -> Any:
        filename = str(Path(frame.f_code.co_filename).resolve())
        return local if filename.startswith(roots) else None

    return call


def _kept_state(model: Sequential, loss: SoftmaxCrossEntropy, optimizer: Optimizer) -> Found:
    """Every floating array the layers, the loss and the optimizer keep, that is not float32."""
    found: Found = []
    owners: list[tuple[str, object]] = [(f"layer {layer!r}", layer) for layer in model]
    owners += [("the loss", loss), (f"the optimizer {optimizer!r}", optimizer)]
    for owner, thing in owners:
        state = dict(vars(thing))
        if isinstance(thing, Layer):
            state.update(params=thing.params, grads=thing.grads)
        for name, value in state.items():
            for path, item in _arrays(value, name):
                problem = _not_float32(item)
                if problem:
                    found.append((owner, f"{path} is a {problem}"))
    return found


def _traced_steps(
    model: Sequential,
    optimizer: Optimizer,
    input_shape: tuple[int, ...],
    steps: int = 2,
    roots: tuple[str, ...] = (REFERENCE_DIR,),
) -> Found:
    """``steps`` float32 training steps (different batch sizes) under the tracer."""
    rng = np.random.default_rng(0)
    loss_fn = SoftmaxCrossEntropy()
    found: Found = []
    previous = sys.gettrace()
    sys.settrace(_trace_float32(found, roots))
    try:
        for batch_size in range(3, 3 + steps):
            x = rng.standard_normal((batch_size, *input_shape), dtype=np.float32)
            y = rng.integers(0, 10, size=batch_size)
            logits = model.forward(x)
            loss_fn.forward(logits, y)
            model.backward(loss_fn.backward())
            optimizer.step(model.params, model.grads)
    finally:
        sys.settrace(previous)
    return found + _kept_state(model, loss_fn, optimizer)


def _report(found: Found) -> str:
    unique = list(dict.fromkeys(f"{where}: {what}" for where, what in found))
    return f"{len(unique)} array(s) left float32 behind:\n  " + "\n  ".join(unique[:20])


@pytest.mark.parametrize("network", sorted(NETWORKS))
def test_a_float32_training_step_of_each_network_stays_float32(network: str) -> None:
    recipe = NETWORKS[network](np.random.default_rng(0))
    found = _traced_steps(recipe.model, recipe.optimizer, recipe.input_shape)
    assert not found, _report(found)


@pytest.mark.parametrize(
    "optimizer",
    [
        SGD(lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3),
        SGD(lr=0.1, weight_decay=1e-3),
        Adam(lr=1e-3, weight_decay=1e-3),
    ],
    ids=repr,
)
def test_every_optimizer_setting_keeps_float32(optimizer: Optimizer) -> None:
    from reference.linear import Linear

    rng = np.random.default_rng(1)
    model = Sequential(Linear(6, 5, rng=rng), ReLU(), Linear(5, 10, rng=rng))
    found = _traced_steps(model, optimizer, (6,), steps=3)
    assert not found, _report(found)


def test_the_tracer_sees_a_float64_intermediate() -> None:
    """The check can fail: a layer that makes a float64 array on the way is reported."""

    class Float64Inside(Layer):
        def forward(self, x: np.ndarray) -> np.ndarray:
            scale = np.ones(x.shape[1])  # float64, the default dtype
            return x * scale

        def backward(self, dout: np.ndarray) -> np.ndarray:
            return dout

    from reference.linear import Linear

    model = Sequential(Linear(4, 10, rng=np.random.default_rng(0)), Float64Inside())
    found = _traced_steps(model, SGD(lr=0.1), (4,), steps=1, roots=(REFERENCE_DIR, __file__))
    wheres = {where for where, _ in found}
    assert (
        "test_float32.py:test_the_tracer_sees_a_float64_intermediate.<locals>."
        "Float64Inside.forward" in wheres
    ), _report(found)
    assert any(where.startswith("losses.py:") for where in wheres), _report(found)
