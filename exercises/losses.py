# Generated from reference/losses.py by `nox -s exercises`: this is your file, edit it.
# Replace each `raise NotImplementedError(...)` with your code; `nox` grades it.
"""Exercise ``softmax_cross_entropy``: softmax, log-softmax, cross-entropy and mean squared error.

A loss turns a batch of predictions and targets into one number, the mean over the batch::

    value = loss.forward(prediction, target)   # a Python float
    dpred = loss.backward()                    # d(value)/d(prediction): shape and dtype of
                                               # prediction

``backward`` starts the backward pass of a network: its result is the ``dout`` of the last
layer. Because ``value`` is a *mean*, the division by the batch size happens here, once; the
layers only sum. ``nox -s hint -- softmax_cross_entropy`` gives hints, one level per call.
"""

from __future__ import annotations

import numpy as np


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """The softmax along ``axis``: ``p_c = exp(x_c) / sum_k exp(x_k)`` over each slice.

    Shapes: ``x`` of any shape; the result has the shape and dtype of ``x``, and sums to 1
    along ``axis`` (each slice along ``axis`` is a probability distribution; for logits
    ``(N, C)`` and ``axis=-1``, each row).

    To work out: what adding the same constant to every ``x_c`` of a slice does to ``p``, and
    how that keeps ``exp`` from overflowing.

    The grader checks: values against an oracle, along the last axis and along any axis given;
    rows that sum to 1; the same result when a constant is added to a row; logits of
    ``±1000`` without an overflow warning or a nan; float32 stays float32; ``x`` never
    modified.
    """
    raise NotImplementedError("softmax_cross_entropy: implement softmax in exercises/losses.py")


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """The logarithm of the softmax along ``axis``, computed stably.

    Definition: ``log p_c = x_c - log(sum_k exp(x_k))``; the second term is the *log-sum-exp*
    of the slice.

    Shapes: the shape and dtype of ``x``. Every value is <= 0.

    Stability, a property the grader checks: for logits ``[1000, 0]`` the softmax is ``[1,
    0]`` in floating point (``exp(-1000)`` underflows to 0), and the log of it would give
    ``-inf`` where the true value, ``-1000``, is perfectly representable. Your result must be
    ``[0, -1000]`` exactly, with no warning.

    To work out: the log-sum-exp with the maximum ``m`` of the slice factored out.

    The grader checks: values, along any axis; huge logits; float32 stays float32; ``x``
    never modified.
    """
    raise NotImplementedError("softmax_cross_entropy: implement log_softmax in exercises/losses.py")


def _check_logits_and_labels(logits: np.ndarray, labels: np.ndarray) -> None:
    """ValueError unless logits is (N, C) floating and labels (N,) integers in [0, C)."""
    if logits.ndim != 2 or not np.issubdtype(logits.dtype, np.floating):
        raise ValueError(
            f"logits must be a floating array of shape (N, C), got {logits.dtype} {logits.shape}"
        )
    n, classes = logits.shape
    if labels.shape != (n,):
        raise ValueError(
            f"labels must have shape (N,) = ({n},) for logits of shape {logits.shape}, "
            f"got {labels.shape}"
        )
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integer class indices, got dtype {labels.dtype}")
    if n and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(
            f"labels must be in 0..{classes - 1} for {classes} classes, "
            f"got values from {labels.min()} to {labels.max()}"
        )


class SoftmaxCrossEntropy:
    """The cross-entropy of the softmax of the logits with integer labels, averaged.

    Definition, for logits ``z`` of shape ``(N, C)`` and labels ``y`` of shape ``(N,)``
    (integers in ``0..C-1``), with ``p = softmax(z)`` along the classes::

        loss = -(1/N) sum_n log p[n, y_n]

    Contract: ``forward(logits, labels)`` returns the loss as a Python ``float`` and keeps in
    ``self.probabilities`` and ``self.labels`` what ``backward`` needs; ``backward()`` returns
    ``dloss/dlogits``, of the shape ``(N, C)`` and the dtype of the logits. The given first
    line of ``forward`` checks the inputs (``ValueError`` for logits that are not ``(N, C)``,
    labels that are not ``(N,)`` integers in ``0..C-1``).

    To derive: ``dloss/dz[n, c]`` for ``c = y_n`` and for ``c != y_n``, from the definition
    and your ``log_softmax``. Fusing the softmax and the cross-entropy gives a gradient that
    never divides by a probability (a separate softmax layer followed by ``-log`` would).

    The grader checks: the loss against an oracle, and ``log C`` for equal logits; a loss of
    exactly 0 or 1000 for logits ``[1000, 0]``; the gradient against central differences and
    against the oracle on several shapes; float32 logits and uint8 labels; the logits and the
    labels never modified; the validation errors.
    """

    def __init__(self) -> None:
        self.probabilities: np.ndarray  # forward keeps softmax(logits) here
        self.labels: np.ndarray  # and the labels here

    def forward(self, logits: np.ndarray, labels: np.ndarray) -> float:
        _check_logits_and_labels(logits, labels)
        raise NotImplementedError(
            "softmax_cross_entropy: implement SoftmaxCrossEntropy.forward in exercises/losses.py"
        )

    def backward(self) -> np.ndarray:
        raise NotImplementedError(
            "softmax_cross_entropy: implement SoftmaxCrossEntropy.backward in exercises/losses.py"
        )

    def __repr__(self) -> str:
        return "SoftmaxCrossEntropy()"


class MeanSquaredError:
    """The mean over *all* elements of the squared difference.

    Definition, for ``prediction`` and ``target`` of the same shape, with
    ``M = prediction.size`` (every element, not the batch size)::

        loss = (1/M) sum_i (prediction_i - target_i)²

    Contract: ``forward(prediction, target)`` returns the loss as a Python ``float`` and keeps
    in ``self.diff`` and ``self.dtype`` what ``backward`` needs; ``backward()`` returns
    ``dloss/dprediction``, of the shape and dtype of the prediction. The given first line of
    ``forward`` raises ``ValueError`` when the shapes differ: an ``(N, 1)`` prediction and an
    ``(N,)`` target would silently broadcast to ``(N, N)``.

    To derive: ``dloss/dprediction_i``.

    The grader checks: the loss against an oracle on 1-D to 3-D shapes; the gradient against
    central differences; float32 predictions with float64 targets (the gradient stays
    float32, the loss is a Python float); the shape check.
    """

    def __init__(self) -> None:
        self.diff: np.ndarray  # forward keeps the difference here
        self.dtype: np.dtype  # and the dtype of the prediction here

    def forward(self, prediction: np.ndarray, target: np.ndarray) -> float:
        if prediction.shape != target.shape:
            raise ValueError(
                f"prediction and target must have the same shape, got {prediction.shape} "
                f"and {target.shape}"
            )
        raise NotImplementedError(
            "softmax_cross_entropy: implement MeanSquaredError.forward in exercises/losses.py"
        )

    def backward(self) -> np.ndarray:
        raise NotImplementedError(
            "softmax_cross_entropy: implement MeanSquaredError.backward in exercises/losses.py"
        )

    def __repr__(self) -> str:
        return "MeanSquaredError()"
