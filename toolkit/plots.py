"""The trainer's figures as PNG files: the curves, the mistakes, the first filters.

- :func:`plot_curves`: loss and accuracy per epoch, training and validation.
- :func:`plot_mistakes`: misclassified test digits with their predicted and true labels, and
  the confusion matrix.
- :func:`plot_filters`: a convolution's filters, and what each one makes of a digit.
- :func:`plot_decision_boundary`: a two-dimensional classifier's regions and its data.

Every file is written atomically (``toolkit.files.atomic_file``), with matplotlib's Agg
backend (files only, never a window).

matplotlib is optional (``pip install matplotlib``, or the project's ``plot`` extra:
``pip install -e '.[plot]'``); it is imported only when a plot is asked for, and
:func:`require_matplotlib` lets a command refuse ``--plot`` *before* a long training rather
than after it.

This module is infrastructure: it is given, not an exercise.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from toolkit.files import atomic_file

CLASSES = 10
"""MNIST's classes, the digits 0 to 9."""

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
    return save_figure(pyplot, figure, path)


def confusion_matrix(true: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """``counts[t, p]``: how many examples of true class ``t`` were predicted ``p``, ``(10, 10)``.

    ``true`` and ``predicted`` are integer labels in ``[0, 10)`` of shape ``(N,)``; the counts
    sum to ``N`` and the diagonal holds the correct predictions.
    """
    true, predicted = np.asarray(true), np.asarray(predicted)
    if true.shape != predicted.shape or true.ndim != 1:
        raise ValueError(
            f"true and predicted need the same shape (N,), got {true.shape} and {predicted.shape}"
        )
    counts = np.zeros((CLASSES, CLASSES), dtype=np.int64)
    np.add.at(counts, (true, predicted), 1)
    return counts


def plot_mistakes(
    path: str | os.PathLike[str],
    images: np.ndarray,
    true: np.ndarray,
    predicted: np.ndarray,
    *,
    shown: int = 32,
    title: str = "",
) -> Path:
    """Write a PNG of what a classifier got wrong: a grid of mistakes and the confusion matrix.

    Args:
        images: the test images, ``(N, 28, 28)`` or ``(N, 1, 28, 28)``, any scale (each
            digit is drawn with its own gray range, ink dark on white).
        true, predicted: their true and predicted labels, ``(N,)`` integers in ``[0, 10)``.
        shown: how many misclassified digits to draw at most, the first ones in test order
            (a sample that shows the usual mistakes, rather than the few most confident ones,
            which are mostly badly written digits).
        title: the figure's title.

    Each digit is captioned ``predicted (true)``; the confusion matrix counts every test
    example, rows the true digit, columns the prediction, with the errors colored on a log
    scale (the diagonal, hundreds of times larger, is only written). Returns the path.
    """
    images = np.asarray(images).reshape(len(images), *np.shape(images)[-2:])
    counts = confusion_matrix(true, predicted)
    wrong = np.flatnonzero(np.asarray(true) != np.asarray(predicted))
    pyplot = require_matplotlib()
    figure = pyplot.figure(figsize=(15, 6.6), layout="constrained")
    grid_figure, matrix_figure = figure.subfigures(1, 2, width_ratios=[1.35, 1])
    draw_mistakes(grid_figure, images, true, predicted, wrong[:shown])
    grid_figure.suptitle(
        f"{min(shown, len(wrong))} of the {len(wrong):,} misclassified test digits "
        f"({100 * len(wrong) / len(images):.2f}% of {len(images):,}): predicted (true)"
    )
    draw_confusion(matrix_figure.subplots(), counts)
    if title:
        figure.suptitle(title, fontsize="x-large")
    return save_figure(pyplot, figure, path)


def draw_mistakes(
    figure: Any, images: np.ndarray, true: np.ndarray, predicted: np.ndarray, wrong: np.ndarray
) -> None:
    """The digits ``images[wrong]`` on a grid of 8 columns, each captioned ``predicted (true)``."""
    columns = 8
    rows = max(1, math.ceil(len(wrong) / columns))
    axes = np.atleast_1d(figure.subplots(rows, columns)).ravel()
    for axis in axes:
        axis.set_axis_off()
    for axis, index in zip(axes, wrong, strict=False):
        axis.imshow(images[index], cmap="gray_r", interpolation="nearest")
        axis.set_title(f"{predicted[index]} ({true[index]})", fontsize=12, color="firebrick")
    if not len(wrong):
        axes[0].text(0.5, 0.5, "no mistakes", ha="center", va="center", fontsize=14)


def draw_confusion(axis: Any, counts: np.ndarray) -> None:
    """The confusion matrix ``counts`` (rows true, columns predicted), every count written."""
    errors = counts.astype(float)
    np.fill_diagonal(errors, np.nan)
    import matplotlib

    colors = matplotlib.colormaps["Reds"].with_extremes(bad="0.88")  # a gray diagonal
    axis.imshow(np.log1p(errors), cmap=colors, vmin=0, vmax=max(np.log1p(np.nanmax(errors)), 1))
    for t in range(CLASSES):
        for p in range(CLASSES):
            if counts[t, p]:
                on_diagonal = t == p
                axis.text(
                    p,
                    t,
                    f"{counts[t, p]:,}",
                    ha="center",
                    va="center",
                    fontsize=9,
                    fontweight="bold" if on_diagonal else "normal",
                    color="black"
                    if on_diagonal or errors[t, p] < np.nanmax(errors) / 2
                    else "white",
                )
    axis.set_xticks(range(CLASSES))
    axis.set_yticks(range(CLASSES))
    axis.set(
        xlabel="predicted digit",
        ylabel="true digit",
        title="confusion matrix of the test set (errors shaded, log scale)",
    )
    axis.tick_params(length=0)


def plot_filters(
    path: str | os.PathLike[str],
    filters: np.ndarray,
    *,
    digit: np.ndarray | None = None,
    responses: np.ndarray | None = None,
    title: str = "",
) -> Path:
    """Write a PNG of a convolution's filters and, optionally, their responses to one digit.

    Args:
        filters: the weights ``(C_out, C_in, kh, kw)``; one row per input channel, one column
            per filter, on one color scale centred on zero (red positive, blue negative), so
            filters can be compared.
        digit: an image ``(H, W)`` (or ``(1, H, W)``) drawn on the row below.
        responses: the layer's output for that digit, ``(C_out, H', W')``: one map per filter,
            drawn under it.
        title: the figure's title.

    Returns the path written.
    """
    filters = np.asarray(filters)
    if filters.ndim != 4:
        raise ValueError(f"filters need the shape (C_out, C_in, kh, kw), got {filters.shape}")
    out_channels, in_channels = filters.shape[:2]
    shown_in = min(in_channels, 4)  # beyond a few input channels the grid says no more
    rows = shown_in + (responses is not None)
    columns = out_channels + (digit is not None)
    pyplot = require_matplotlib()
    figure, axes = pyplot.subplots(
        rows,
        columns,
        figsize=(1.9 * columns + 1, 2.1 * rows + 0.6),
        squeeze=False,
        layout="constrained",
    )
    for axis in axes.ravel():
        axis.set_axis_off()
    first = 1 if digit is not None else 0
    limit = float(np.abs(filters).max()) or 1.0
    image = None
    for o in range(out_channels):
        for i in range(shown_in):
            axis = axes[i, first + o]
            image = axis.imshow(
                filters[o, i], cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest"
            )
            if i == 0:
                axis.set_title(f"filter {o}")
    if digit is not None:
        axes[rows - 1, 0].imshow(np.squeeze(digit), cmap="gray_r", interpolation="nearest")
        axes[rows - 1, 0].set_title("a test digit")
    if responses is not None:
        for o in range(out_channels):
            axis = axes[rows - 1, first + o]
            axis.imshow(responses[o], cmap="magma", interpolation="nearest")
            axis.set_title(f"response of filter {o}", fontsize="small")
    if image is not None:
        figure.colorbar(image, ax=axes[:shown_in, :].ravel().tolist(), shrink=0.8, label="weight")
    suffix = (
        f" (first {shown_in} of {in_channels} input channels)" if shown_in < in_channels else ""
    )
    figure.suptitle((title or "filters") + suffix)
    return save_figure(pyplot, figure, path)


def plot_decision_boundary(
    path: str | os.PathLike[str],
    score: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    y: np.ndarray,
    *,
    resolution: int = 50,
    title: str = "",
) -> Path:
    """Write a PNG of a binary classifier of points in the plane: its regions and the data.

    ``score(points)`` maps an ``(M, 2)`` array to ``(M,)`` scores, class 1 where the score is
    positive; it is evaluated on a ``resolution x resolution`` grid covering ``x`` ``(N, 2)``
    with a margin, drawn as two shaded regions with the boundary (score 0) as a line, and the
    points of ``x`` coloured by their labels ``y`` in {0, 1}. Returns the path written.
    """
    if x.ndim != 2 or x.shape[1] != 2 or len(x) != len(y):
        raise ValueError(f"x must be (N, 2) and y (N,), got {x.shape} and {np.shape(y)}")
    pyplot = require_matplotlib()
    low, high = x.min(axis=0) - 0.5, x.max(axis=0) + 0.5
    xs, ys = (np.linspace(low[axis], high[axis], resolution) for axis in (0, 1))
    grid_x, grid_y = np.meshgrid(xs, ys)
    scores = np.asarray(score(np.column_stack([grid_x.ravel(), grid_y.ravel()])))
    scores = scores.reshape(grid_x.shape)
    figure, axes = pyplot.subplots(figsize=(6, 5))
    axes.contourf(grid_x, grid_y, scores > 0, levels=[-0.5, 0.5, 1.5], cmap="coolwarm", alpha=0.3)
    axes.contour(grid_x, grid_y, scores, levels=[0.0], colors="black", linewidths=1)
    axes.scatter(x[:, 0], x[:, 1], c=y, cmap="coolwarm", edgecolors="black", s=20)
    axes.set(xlabel="x[0]", ylabel="x[1]", title=title or "decision boundary")
    figure.tight_layout()
    return save_figure(pyplot, figure, path)


def save_figure(pyplot: ModuleType, figure: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``figure`` to ``path`` as a PNG, atomically, and free it; returns the path."""
    target = Path(path)
    try:
        with atomic_file(target) as file:
            figure.savefig(file, format="png", dpi=100)
    finally:
        pyplot.close(figure)
    return target
