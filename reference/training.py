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
    # BEGIN SOLUTION
    # HINT 1: Write down, for N = 23 and batch_size = 5, the index ranges of the five batches
    #   and the mean loss over the 23 examples in terms of the five batch means.
    # HINT 2: With batch means l_k over batches of sizes B_k, the mean per example is
    #   sum_k B_k l_k / N: the last batch (3 examples here) weighs 3, not 5, and not 1/5 of
    #   the total. The batches are the slices of one permutation of 0..N-1 at starts
    #   0, B, 2B, ... up to but excluding N.
    # HINT 3: x[batch] and y[batch] with the same index array keep examples and labels
    #   together and copy, so nothing of the caller's arrays moves; the output of the forward
    #   is (B, C) and the predicted class of each row is the position of its largest score.
    # HINT 4: Put the model in training mode, draw one permutation of the N indices from rng,
    #   and for every start from 0 by steps of batch_size take the slice of the permutation;
    #   forward, loss, backward of the loss's gradient, optimizer step; add the batch loss
    #   times the batch's length and the batch's correct count to running totals; report to
    #   on_batch; at the end divide both totals by N.
    # DERIVATION:
    #   An epoch of mini-batch SGD. With a permutation $\pi$ of $\{0, \dots, N-1\}$ and
    #   batches $\mathcal{B}_k = \pi[kB : (k+1)B]$ for $k = 0 \dots \lceil N/B \rceil - 1$
    #   (the last one has $N - B \lfloor N/B \rfloor$ examples when $B$ does not divide $N$),
    #   the loss function returns the batch mean $\ell_k = \frac{1}{|\mathcal{B}_k|}
    #   \sum_{n \in \mathcal{B}_k} \ell(n)$. The epoch's mean per example is
    #
    #   $$\bar\ell = \frac{1}{N} \sum_{n} \ell(n) = \frac{1}{N} \sum_k |\mathcal{B}_k|\,
    #   \ell_k$$
    #
    #   (not $\frac{1}{K}\sum_k \ell_k$, which overweights a small last batch). The accuracy
    #   is $\frac{1}{N} \sum_n [\arg\max_c \text{out}_{n,c} = y_n]$ with $\text{out}$ of
    #   shape $(B, C)$, the argmax taken over the class axis. Each batch is forward, loss,
    #   backward, step: the gradients of a step are those of its own batch.
    # MISTAKES:
    #   - The last, partial batch dropped: `train_epoch(model, loss, optimizer, x, y, batch_size=5,
    #     rng) on 23 examples made forward passes on batches of sizes [5, 5, 5, 5], expected four of
    #     5 and one of 3 (the last, partial batch is kept)`.
    #   - The plain mean of the batch losses: `train_epoch(model, loss, optimizer, x, y,
    #     batch_size=4, rng) on 10 examples returned loss 0.5642304998527777, expected the mean loss
    #     per example, 0.569565757245225`, then `likely mistake: the plain mean of the batch losses:
    #     the last, partial batch then counts as much as a full one; weight each batch loss by its
    #     size`.
    #   - The optimizer stepped before backward: `... made the calls [('forward', 5), ('loss', 5),
    #     ('step',), ('loss.backward', 5), ('model.backward', 5), ('on_batch', 5), ...] expected 5
    #     batches (ceil(23 / 5)), each: model.forward, loss.forward, loss.backward, model.backward,
    #     optimizer.step, on_batch`.
    #   - No `model.train()`: `train_epoch(...) on 12 examples on a model left in evaluation mode
    #     ran forward with training = [False, False, False]: call model.train() first (dropout must
    #     be on)`.
    #   - The order drawn from `np.random` instead of `rng`: `train_epoch(..., batch_size=7,
    #     rng=np.random.default_rng(seed)) on 40 examples twice with seed 0 visited the examples in
    #     different orders: draw the permutation from rng, not from np.random`.
    # STATED: check_dataset(x, y, batch_size)
    # STATED: model.train()
    # STATED: optimizer.step(model.params, model.grads)
    check_dataset(x, y, batch_size)
    model.train()
    order = rng.permutation(len(x))
    total_loss = 0.0
    correct = 0
    for start in range(0, len(x), batch_size):
        batch = order[start : start + batch_size]
        x_batch, y_batch = x[batch], y[batch]
        out = model.forward(x_batch)
        loss = loss_fn.forward(out, y_batch)
        model.backward(loss_fn.backward())
        optimizer.step(model.params, model.grads)
        batch_correct = int(np.sum(out.argmax(axis=1) == y_batch))
        total_loss += loss * len(batch)
        correct += batch_correct
        if on_batch is not None:
            on_batch(len(batch), loss, batch_correct)
    return Metrics(loss=float(total_loss / len(x)), accuracy=correct / len(x))
    # END SOLUTION


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
    # BEGIN SOLUTION
    # HINT 1: The same totals as train_epoch: what changes when nothing is learned?
    # HINT 2: mean loss = sum_k B_k l_k / N and accuracy = (number right) / N, with B_k the
    #   sizes of the consecutive batches, the last one possibly smaller.
    # HINT 3: The batches are consecutive slices of x and y, no permutation; each output is
    #   (B, C) and the predicted class is the position of the row's largest score.
    # HINT 4: Put the model in evaluation mode; for each start from 0 by steps of batch_size,
    #   forward the slice, add its loss times its length and its number of right predictions
    #   to running totals; divide both by N.
    # DERIVATION:
    #   The same weighted mean as in training, over consecutive batches $\mathcal{B}_k$:
    #   $\bar\ell = \frac{1}{N} \sum_k |\mathcal{B}_k|\, \ell_k$, and the accuracy
    #   $\frac{1}{N}\sum_n [\arg\max_c \text{out}_{n,c} = y_n]$. Evaluation mode changes
    #   what some layers compute (dropout keeps everything); no backward is needed, and one
    #   would overwrite the gradients.
    # MISTAKES:
    #   - No `model.eval()`: `evaluate ran forward with training = [True, True, True, True]: call
    #     model.eval() first (dropout must be off)`.
    #   - Every batch weighted by `batch_size`: `evaluate(model, loss, x, y, batch_size=4) on 14
    #     examples returned loss 0.6070380765586572, expected the mean loss per example,
    #     0.5519844324343255`, then `likely mistake: every batch loss weighted by batch_size: the
    #     last batch holds fewer examples, and its weight is the number it holds`.
    # STATED: check_dataset(x, y, batch_size)
    # STATED: model.eval()
    check_dataset(x, y, batch_size)
    model.eval()
    total_loss = 0.0
    correct = 0
    for start in range(0, len(x), batch_size):
        x_batch, y_batch = x[start : start + batch_size], y[start : start + batch_size]
        out = model.forward(x_batch)
        total_loss += loss_fn.forward(out, y_batch) * len(x_batch)
        correct += int(np.sum(out.argmax(axis=1) == y_batch))
    return Metrics(loss=float(total_loss / len(x)), accuracy=correct / len(x))
    # END SOLUTION
