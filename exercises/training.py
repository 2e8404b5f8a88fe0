# Generated from reference/training.py by `nox -s exercises`: this is your file, edit it.
# Replace each `raise NotImplementedError(...)` with your code; `nox` grades it.
"""Exercise ``training``: the training loop (one epoch of mini-batch SGD) and evaluation.

One epoch visits every training example once, in a fresh random order, a mini-batch at a
time. For each batch: the model's forward gives ``(B, C)`` scores, the loss's forward their
mean loss over the batch, the loss's backward the gradient of that mean with respect to the
scores, which the model's backward takes (filling ``model.grads``); then the optimizer takes one
step on ``model.params`` and ``model.grads``.

The objects are duck-typed: ``model`` is a ``Layer`` (usually a ``Sequential``), ``loss_fn``
has ``forward(prediction, target) -> float`` and ``backward() -> d(loss)/d(prediction)``,
``optimizer`` has ``step(params, grads)``.

Why shuffle: consecutive examples of a dataset are often alike (sorted by class, by source);
batches drawn in that order give biased gradients, and the same order every epoch repeats the
same bias. A new permutation per epoch, from a seeded generator, keeps the batches
representative and the run reproducible.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple, Protocol

import numpy as np

from toolkit import checks
from toolkit.layer import Layer


class Metrics(NamedTuple):
    """What an epoch or an evaluation reports.

    Attributes:
        loss: the mean loss per example.
        accuracy: the fraction of examples whose highest score is their label, in [0, 1].
    """

    loss: float
    accuracy: float


class Loss(Protocol):
    def forward(self, prediction: np.ndarray, target: np.ndarray) -> float: ...

    def backward(self) -> np.ndarray: ...


class Optimizer(Protocol):
    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None: ...


def check_dataset(x: np.ndarray, y: np.ndarray, batch_size: int) -> None:
    """Raise ``ValueError`` unless ``x`` and ``y`` pair up and ``batch_size`` is usable.

    Checks: ``batch_size`` is a positive integer; ``x`` holds at least one example; ``x`` and
    ``y`` have the same number of examples (``len(x) == len(y)``).
    """
    checks.positive_int("batch_size", batch_size)
    if len(x) == 0:
        raise ValueError("x holds no examples: there is nothing to train on or evaluate")
    if len(x) != len(y):
        raise ValueError(
            f"x and y must hold the same number of examples, got len(x) = {len(x)} "
            f"and len(y) = {len(y)}"
        )


def train_epoch(
    model: Layer,
    loss_fn: Loss,
    optimizer: Optimizer,
    x: np.ndarray,
    y: np.ndarray,
    *,
    batch_size: int,
    rng: np.random.Generator,
    on_batch: Callable[[int, float, int], None] | None = None,
) -> Metrics:
    """Train ``model`` for one epoch over ``(x, y)``; return the epoch's mean loss and accuracy.

    Shapes: ``x`` ``(N, ...)`` (``(N, features)`` for an MLP, ``(N, 1, 28, 28)`` for a conv
    net), ``y`` ``(N,)`` integer labels, the model's output ``(B, C)`` scores for a batch of
    ``B`` examples.

    The contract:

    1. First the arguments are checked with the given ``check_dataset(x, y, batch_size)`` (a
       ``ValueError`` before anything is trained); then the model is put in training mode
       (``model.train()``: dropout on), whatever mode it was left in.
    2. The epoch visits the examples in a fresh random order, a permutation of all ``N``
       indices drawn from ``rng`` (never from ``np.random``: a seed must reproduce the run, and
       each epoch of the same generator gets a new order), cut into consecutive mini-batches of
       ``batch_size`` examples. Every example is seen exactly once per epoch: when
       ``batch_size`` does not divide ``N`` the last batch is smaller, and it is kept. ``x`` and
       ``y`` are never modified, and each batch's labels are those of its examples.
    3. For each batch, in this order: the model's forward, the loss's forward, the model's
       backward of the loss's backward, one ``optimizer.step(model.params, model.grads)``, then,
       if ``on_batch`` is given (a progress bar's hook), ``on_batch(batch_len, batch_loss,
       batch_correct)``, ``batch_correct`` the number of examples of the batch whose highest
       score is their label. One forward per batch: the accuracy is counted on the outputs of
       the training forward passes.
    4. The return value is ``Metrics(loss, accuracy)`` of Python floats: ``loss`` the mean loss
       *per example* over the epoch (``loss_fn`` returns the mean over its batch, and batches
       need not have the same size), ``accuracy`` the fraction of the ``N`` examples whose
       highest score is their label.

    Work out on paper, for ``N = 23`` and ``batch_size = 5``, the batch sizes and how the five
    batch means combine into the mean over the 23 examples: the grader checks exactly that
    case, the order of the calls, the permutation's source and freshness, the labels that
    follow their examples, the accuracy and the ``on_batch`` reports.

    Args:
        model: the network (a ``Layer``).
        loss_fn: the loss, e.g. ``SoftmaxCrossEntropy()``.
        optimizer: e.g. ``SGD(lr=0.1, momentum=0.9)``.
        x: the inputs, ``N`` examples along the first axis.
        y: the integer labels, shape ``(N,)``.
        batch_size: the examples per step (a positive int).
        rng: the generator of the permutation.
        on_batch: called as ``on_batch(batch_len, batch_loss, batch_correct)`` after each step.
    """
    raise NotImplementedError("training: implement train_epoch in exercises/training.py")


def evaluate(
    model: Layer,
    loss_fn: Loss,
    x: np.ndarray,
    y: np.ndarray,
    *,
    batch_size: int = 1000,
) -> Metrics:
    """The mean loss and the accuracy of ``model`` on ``(x, y)``, without training it.

    The contract: first the given ``check_dataset(x, y, batch_size)``; then the model is put in
    evaluation mode (``model.eval()``: dropout off) and left in it (``train_epoch`` switches it
    back itself). The examples go through the model in their order, in consecutive batches of
    ``batch_size`` (no shuffling is needed to measure; batches bound the memory: a conv net's
    activations for 10,000 images at once are large), forward and loss only: no backward, no
    optimizer step, the parameters and gradients do not change. The result is
    ``Metrics(loss, accuracy)`` as in :func:`train_epoch`: the mean loss per example and the
    fraction of examples whose highest score is their label.

    What the grader checks: evaluation mode, no backward and no change to the model, the
    batches (1000 by default) and the mean per example with a last, smaller batch.
    """
    raise NotImplementedError("training: implement evaluate in exercises/training.py")
