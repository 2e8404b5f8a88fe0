# Generated from reference/regularized.py by `nox -s exercises`: this is your file, edit it.
# Replace each `raise NotImplementedError(...)` with your code; `nox` grades it.
"""Capstone ``mnist_regularized``: an MLP with batch normalization and dropout on MNIST.

The same task as the ``mnist_mlp`` capstone (at least 97.5 % test accuracy within 3 epochs),
with the layers of the second half: ``BatchNorm1d`` after the hidden ``Linear`` keeps its
pre-activations standardized whatever the weights do, so larger steps stay stable; ``Dropout``
after the ReLU keeps the hidden units from co-adapting. The recipe is trained by the given
``fit_epoch`` of ``models.py`` (your ``train_epoch``, which switches the model to training
mode, and the capstone measures in evaluation mode, where dropout is off and batch
normalization uses its running statistics).
"""

from __future__ import annotations

import numpy as np

from .activations import ReLU
from .dropout import Dropout
from .init import he_normal
from .linear import Linear
from .models import Recipe
from .network import Sequential
from .normalization import BatchNorm1d
from .optim import SGD


def regularized_mlp(rng: np.random.Generator) -> Recipe:
    """An MLP with batch normalization and dropout: at least 97.5 % within 3 epochs.

    Architecture (N examples per batch; H hidden units, your choice; p the drop probability)::

        layer             output shape   parameters
        input             (N, 784)
        Linear(784, H)    (N, H)         784 * H + H
        BatchNorm1d(H)    (N, H)         2 * H (gamma, beta), and 2 * H running statistics
        ReLU              (N, H)
        Dropout(p)        (N, H)
        Linear(H, 10)     (N, 10)        H * 10 + 10                <- the logits

    Return a ``Recipe`` (``from .models import Recipe``) with this ``Sequential``, at most 3
    epochs, ``input_shape=(784,)``, every weight drawn from ``rng`` and the dropout masks drawn
    from it too (``Dropout(p, rng=rng)``), so the same seed trains the same network. The
    optimizer, H, p, the batch size, the decay and the shifts are yours.

    What the grader checks: the recipe's settings (the epoch limit, the input shape), that the
    network holds a ``BatchNorm1d`` and a ``Dropout``, the speed of your layers against the
    reference's recipe, then it trains the recipe on the 50,000 training images and measures
    the accuracy on the 10,000 test images in evaluation mode.
    """
    raise NotImplementedError(
        "mnist_regularized: implement regularized_mlp in exercises/regularized.py"
    )
