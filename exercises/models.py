# Generated from reference/models.py by `nox -s exercises`: this is your file, edit it.
# Replace each `raise NotImplementedError(...)` with your code; `nox` grades it.
"""The networks of the capstones: a tutorial MLP, a real MLP and LeNet-5, each with its recipe.

A *recipe* is everything needed to train a network on MNIST: the model, the optimizer that
updates its parameters, how many epochs, the mini-batch size, and the shape each example must
have when it enters the model, and optionally a learning-rate decay and an augmentation. The
trainer (``python -m toolkit.train``, the capstone tests) runs::

    for epoch in range(recipe.epochs):
        fit_epoch(recipe, images, labels, rng)   # shift, reshape, your train_epoch, decay

The builders below take the ``numpy.random.Generator`` that draws the initial weights, so the
same seed builds the same network. Everything you need is in the modules you already wrote:
``Linear``, ``ReLU``, ``he_normal``, ``SGD``, ``Adam``, ``Sequential`` and, for LeNet-5,
``Conv2d``, ``MaxPool2d`` and ``Flatten``.

Why He initialization in front of a ReLU: a layer with ``fan_in`` inputs of variance ``v`` and
weights of variance ``s**2`` outputs pre-activations of variance ``fan_in * s**2 * v``; ReLU
zeroes the negative half and keeps half of that second moment. ``s**2 = 2 / fan_in`` (He) makes
the factor exactly one, so the activations (and, by the same argument backwards, the gradients)
stay of order one through every layer. With ``1 / fan_in`` (LeCun) they halve at every ReLU
layer; with ``N(0, 1)`` weights they grow by ``sqrt(fan_in / 2)`` per layer and the first
softmax saturates. The output layer feeds no ReLU: the default LeCun initialization of
``Linear`` keeps its logits of order one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from toolkit.data import random_shift

from .activations import ReLU
from .conv import Conv2d
from .init import he_normal
from .linear import Linear
from .losses import SoftmaxCrossEntropy
from .network import Sequential
from .optim import SGD, Adam
from .pool import Flatten, MaxPool2d
from .training import Metrics, train_epoch


@dataclass
class Recipe:
    """A network and how to train it on MNIST.

    Attributes:
        model: the network, a ``Sequential`` whose last layer outputs the 10 logits.
        optimizer: the optimizer, already configured (learning rate, betas...); the trainer
            calls ``optimizer.step(model.params, model.grads)`` after every backward pass.
        epochs: how many passes over the 50,000 training images.
        batch_size: examples per mini-batch.
        input_shape: the shape of one example as the model wants it: ``(784,)`` for an MLP
            (the image flattened), ``(1, 28, 28)`` for a convolutional network (channels first).
        lr_decay: after every epoch the learning rate is multiplied by this (1.0: constant).
        max_shift: augmentation: every epoch, each training image is moved by a random offset
            of up to this many pixels per axis (0: the images as they are).
    """

    model: Sequential
    optimizer: SGD | Adam
    epochs: int
    batch_size: int
    input_shape: tuple[int, ...]
    lr_decay: float = 1.0
    max_shift: int = 0

    def inputs(self, images: np.ndarray) -> np.ndarray:
        """Images ``(N, 1, 28, 28)`` as the model wants them: ``(N, *input_shape)``, a view."""
        return images.reshape(len(images), *self.input_shape)


def fit_epoch(
    recipe: Recipe,
    images: np.ndarray,
    labels: np.ndarray,
    rng: np.random.Generator,
    *,
    on_batch: Callable[[int, float, int], None] | None = None,
) -> Metrics:
    """One epoch of ``recipe`` on ``images`` ``(N, 1, 28, 28)``: the trainer's whole step.

    Each image is first moved by a random offset of up to ``recipe.max_shift`` pixels (new
    offsets every epoch: ``toolkit.data.random_shift``), then the batch is reshaped to
    ``recipe.input_shape`` and trained on by your ``train_epoch``; last, the learning rate is
    multiplied by ``recipe.lr_decay``, so that late epochs take smaller steps and settle.
    The model's input is the data, whose gradient nobody uses: its first layer is told so
    (``set_needs_input_grad(False)``) and skips computing it.
    ``python -m toolkit.train`` and the capstone tests both train through this function.
    """
    recipe.model.set_needs_input_grad(False)
    if recipe.max_shift:
        images = random_shift(images, recipe.max_shift, rng)
    metrics = train_epoch(
        recipe.model,
        SoftmaxCrossEntropy(),
        recipe.optimizer,
        recipe.inputs(images),
        labels,
        batch_size=recipe.batch_size,
        rng=rng,
        on_batch=on_batch,
    )
    recipe.optimizer.lr *= recipe.lr_decay
    return metrics


def two_layer_net(rng: np.random.Generator) -> Recipe:
    """The classic tutorial network: 784 -> 10 -> ReLU -> 10, trained by plain SGD.

    Architecture (N examples per batch)::

        layer            output shape   parameters
        input            (N, 784)
        Linear(784, 10)  (N, 10)        784 * 10 + 10 = 7,850
        ReLU             (N, 10)
        Linear(10, 10)   (N, 10)        10 * 10 + 10  = 110      <- the logits
                                        total           7,960

    Return a ``Recipe`` with this ``Sequential``, plain ``SGD`` (no momentum), at most 3 epochs
    and the input shape a ``Linear`` layer wants. The capstone expects at least 90 % test
    accuracy. Draw every weight from ``rng`` (the same seed must build the same network) and
    initialize the layer that feeds the ReLU for a ReLU (the ``init`` exercise says which
    initializer that is). The learning rate and the batch size are yours to choose.

    What the grader checks: it times your layers against the reference's (a recipe much
    slower is stopped before it trains, naming the slow layer), trains the recipe on the
    50,000 training images and measures the accuracy on the 10,000 test images.
    """
    raise NotImplementedError("mnist_mlp: implement two_layer_net in exercises/models.py")


def mlp(rng: np.random.Generator) -> Recipe:
    """Your multilayer perceptron: at least 97.5 % test accuracy within 3 epochs.

    The design is yours, with at most 3 epochs (the capstone checks it), every weight drawn
    from ``rng``, ``input_shape=(784,)``, and what the modules you wrote offer: ``Linear``,
    ``ReLU``, the initializers, ``SGD`` with momentum or ``Adam``, and the recipe's learning-rate
    decay and image shifts. Three epochs is a tight budget: ask for the hints when a design
    falls short.

    What the grader checks: the epoch limit, the speed of your layers against the reference's,
    then it trains the recipe on MNIST and measures the test accuracy.
    """
    raise NotImplementedError("mnist_mlp: implement mlp in exercises/models.py")


def lenet5(rng: np.random.Generator) -> Recipe:
    """LeNet-5 (LeCun et al., 1998, with ReLU and max pooling): at least 98.8 % in 5 epochs.

    Architecture, channels first (N examples per batch)::

        layer                              output shape    parameters
        input                              (N, 1, 28, 28)
        Conv2d(1, 6, 5, padding=2)         (N, 6, 28, 28)  6 * 1 * 5 * 5 + 6     = 156
        ReLU                               (N, 6, 28, 28)
        MaxPool2d(2)                       (N, 6, 14, 14)
        Conv2d(6, 16, 5)                   (N, 16, 10, 10) 16 * 6 * 5 * 5 + 16   = 2,416
        ReLU                               (N, 16, 10, 10)
        MaxPool2d(2)                       (N, 16, 5, 5)
        Flatten                            (N, 400)
        Linear(400, 120)                   (N, 120)        400 * 120 + 120       = 48,120
        ReLU                               (N, 120)
        Linear(120, 84)                    (N, 84)         120 * 84 + 84         = 10,164
        ReLU                               (N, 84)
        Linear(84, 10)                     (N, 10)         84 * 10 + 10          = 850
                                                           total                   61,706

    The padding of 2 turns MNIST's 28 x 28 into the 32 x 32 input of the original paper.
    Return a ``Recipe`` with ``input_shape=(1, 28, 28)`` and at most 5 epochs (the capstone
    checks it). Initialize every convolution and every Linear that feeds a ReLU with
    ``he_normal`` (for a convolution, fan_in = in_channels * kh * kw: 25 for the first, 150 for
    the second), and draw every weight from ``rng``.

    The optimizer, the batch size, the decay and the shifts are yours to choose.

    What the grader checks: activations and gradients of order one through the network at
    initialization, the epoch limit, the speed of your layers against the reference's, then it
    trains the recipe on MNIST and measures the test accuracy.
    """
    raise NotImplementedError("lenet5: implement lenet5 in exercises/models.py")


NETWORKS: dict[str, Callable[[np.random.Generator], Recipe]] = {
    "two_layer_net": two_layer_net,
    "mlp": mlp,
    "lenet5": lenet5,
}
"""The builders by name, as ``python -m toolkit.train <name>`` knows them."""
