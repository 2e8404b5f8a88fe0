# Generated from reference/training.py by `nox -s exercises`: this is your file, edit it.
# Replace each `raise NotImplementedError(...)` with your code; `nox` grades it.
"""Exercise ``training``: the training loop (one epoch of mini-batch SGD) and evaluation.

One epoch visits every training example once, in a fresh random order, a mini-batch at a
time. For each batch::

    out = model.forward(x_batch)            # (B, C) scores
    loss = loss_fn.forward(out, y_batch)    # a float: the mean over the batch
    model.backward(loss_fn.backward())      # fills model.grads
    optimizer.step(model.params, model.grads)

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

    Steps:

    1. ``check_dataset(x, y, batch_size)``, then ``model.train()`` (dropout on).
    2. ``order = rng.permutation(len(x))``: a fresh random order, from ``rng`` (never from
       ``np.random``: a seed must reproduce the run). The batches are consecutive slices of
       it, ``order[start:start + batch_size]``; the last one is smaller when ``batch_size``
       does not divide ``len(x)``, and it is *kept*: every example is seen once per epoch.
    3. For each batch: forward, loss, backward of ``loss_fn.backward()`` through the model,
       ``optimizer.step(model.params, model.grads)``, then, if ``on_batch`` is given (a
       progress bar's hook), ``on_batch(len(batch), loss, correct)`` with ``correct`` the
       number of examples of the batch whose highest output is their label.
    4. Return ``Metrics(loss, accuracy)`` as Python floats:

       - ``loss``: the mean loss per *example* over the epoch. ``loss_fn`` returns the mean
         over its batch, so weight each batch by its size:
         ``sum(batch_loss * batch_len) / len(x)``.
       - ``accuracy``: the fraction of examples with ``out.argmax(axis=1) == label``
         (``y`` holds integer labels, shape ``(N,)``; ``out`` has shape ``(B, C)``), counted
         on the outputs of the forward passes during the epoch.

    Shapes: ``x`` ``(N, ...)`` (``(N, features)`` for an MLP, ``(N, 1, 28, 28)`` for a conv
    net), ``y`` ``(N,)``.

    Usual mistakes: shuffling once before the first epoch only, or with ``np.random``;
    ``range(0, len(x) - batch_size, batch_size)`` (drops the last batch);
    ``np.mean(batch_losses)`` (the last, partial batch counts as much as a full one); calling
    ``optimizer.step`` before ``backward``; forgetting ``model.train()`` after an evaluation.

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

    Steps: ``check_dataset(x, y, batch_size)``; ``model.eval()`` (dropout off); then, for
    consecutive slices ``x[start:start + batch_size]`` in order (no shuffling is needed to
    measure), forward and loss only: no backward, no optimizer, the parameters do not change.
    Batches bound the memory (a conv net's activations for 10,000 images at once are large).
    Return ``Metrics(loss, accuracy)`` as in :func:`train_epoch`: the loss weighted by batch
    size, the accuracy over every example.

    The model is left in evaluation mode: the caller switches it back (``train_epoch`` calls
    ``model.train()`` itself).

    Usual mistakes: forgetting ``model.eval()`` (dropout still drops: the score is noisy and
    too low); calling ``backward`` (wasted work, and it overwrites the gradients); averaging the
    batch means without weighting them.
    """
    raise NotImplementedError("training: implement evaluate in exercises/training.py")
