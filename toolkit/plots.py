"""Training curves as a PNG: loss and accuracy per epoch, training and validation.

matplotlib is optional (``pip install matplotlib``, or the project's ``plot`` extra:
``pip install -e '.[plot]'``); it is imported only when a plot is asked for, and
:func:`require_matplotlib` lets a command refuse ``--plot`` *before* a long training rather
than after it.

This module is infrastructure: it is given, not an exercise.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from toolkit.files import atomic_file

INSTALL_HINT = (
    "plotting needs matplotlib, which is not installed: "
    "run `pip install matplotlib` (or `pip install -e '.[plot]'` in the repository)"
)


def require_matplotlib() -> ModuleType:
    """Import ``matplotlib.pyplot`` with a file-only backend; ImportError says how to install it."""
    try:
        import matplotlib
    except ImportError as error:
        raise ImportError(INSTALL_HINT) from error
    matplotlib.use("Agg")  # writes files, never opens a window
    import matplotlib.pyplot as pyplot

    return pyplot


def plot_curves(
    path: str | os.PathLike[str],
    *,
    train_loss: Sequence[float],
    train_accuracy: Sequence[float],
    val_loss: Sequence[float],
    val_accuracy: Sequence[float],
    title: str = "",
) -> Path:
    """Write a PNG with two panels (loss, accuracy in %) against the epoch number.

    All four sequences have one value per epoch; accuracies are fractions in [0, 1]. The file
    is written atomically (a temporary file in the same directory, then renamed), so an
    interrupted run never leaves half a PNG. Returns the path written.
    """
    lengths = {len(train_loss), len(train_accuracy), len(val_loss), len(val_accuracy)}
    if len(lengths) != 1 or 0 in lengths:
        raise ValueError(
            "train_loss, train_accuracy, val_loss and val_accuracy need one value per epoch "
            f"each, got lengths {len(train_loss)}, {len(train_accuracy)}, {len(val_loss)}, "
            f"{len(val_accuracy)}"
        )
    pyplot = require_matplotlib()
    epochs = range(1, len(train_loss) + 1)
    figure, (loss_axes, accuracy_axes) = pyplot.subplots(1, 2, figsize=(10, 4))
    loss_axes.plot(epochs, train_loss, "o-", label="training")
    loss_axes.plot(epochs, val_loss, "s-", label="validation")
    loss_axes.set(xlabel="epoch", ylabel="cross-entropy loss", title="loss")
    accuracy_axes.plot(epochs, [100 * a for a in train_accuracy], "o-", label="training")
    accuracy_axes.plot(epochs, [100 * a for a in val_accuracy], "s-", label="validation")
    accuracy_axes.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
    for axes in (loss_axes, accuracy_axes):
        axes.grid(alpha=0.3)
        axes.legend()
        axes.xaxis.get_major_locator().set_params(integer=True)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    target = Path(path)
    try:
        with atomic_file(target) as file:
            figure.savefig(file, format="png", dpi=100)
    finally:
        pyplot.close(figure)
    return target
