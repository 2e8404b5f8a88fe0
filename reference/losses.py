"""Exercise ``softmax_cross_entropy``: softmax, log-softmax, cross-entropy and mean squared error.

A loss turns a batch of predictions and targets into one number, the mean over the batch::

    value = loss.forward(prediction, target)   # a Python float
    dpred = loss.backward()                    # d(value)/d(prediction): shape and dtype of
                                               # prediction

``backward`` starts the backward pass of a network: its result is the ``dout`` of the last
layer. Because ``value`` is a *mean*, the division by the batch size happens here, once; the
layers only sum.
"""

from __future__ import annotations

import numpy as np


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """The softmax along ``axis``: ``p_c = exp(x_c) / sum_k exp(x_k)``.

    Shapes: ``x`` of any shape; the result has the shape and dtype of ``x``, and sums to 1
    along ``axis`` (each slice along ``axis`` is a probability distribution).

    Stability: ``exp(1000)`` overflows to ``inf`` and ``inf / inf`` is ``nan``. Softmax does
    not change when a constant is added to every ``x_c`` of a slice (it cancels between the
    numerator and the denominator), so subtract the maximum of each slice first: the largest
    exponent is then ``exp(0) = 1`` and nothing overflows.

    Usual mistakes: the maximum or the sum over the whole array, or over the wrong axis (for
    logits ``(N, C)`` each *row* is a distribution, ``axis=-1``); forgetting ``keepdims=True``
    so the ``(N,)`` maxima broadcast against the wrong axis; ``x -= x.max(...)``, which
    modifies the caller's array.

    Hint: ``x.max(axis=axis, keepdims=True)`` and ``.sum(axis=axis, keepdims=True)``.
    """
    # BEGIN SOLUTION
    exps = np.exp(x - x.max(axis=axis, keepdims=True))
    return exps / exps.sum(axis=axis, keepdims=True)
    # END SOLUTION


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """The logarithm of the softmax along ``axis``, computed stably.

    ``log p_c = x_c - log(sum_k exp(x_k))``; the second term is the *log-sum-exp*, computed
    with the maximum ``m`` of the slice factored out::

        log(sum_k exp(x_k)) = m + log(sum_k exp(x_k - m))

    Shapes: the shape and dtype of ``x``. Every value is <= 0.

    Why not ``np.log(softmax(x))``: for logits ``[1000, 0]`` the softmax is ``[1, 0]`` in
    floating point (``exp(-1000)`` underflows to 0) and ``log(0) = -inf``, whereas the true
    ``log p_1 = -1000`` is perfectly representable. The cross-entropy then comes out ``inf``.

    Usual mistakes: ``np.log(softmax(x))``; the wrong axis; modifying ``x`` in place.

    Hint: ``shifted = x - m``, then ``shifted - np.log(np.exp(shifted).sum(...))``.
    """
    # BEGIN SOLUTION
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    # END SOLUTION


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

    For logits ``z`` of shape ``(N, C)`` and labels ``y`` of shape ``(N,)`` (integers in
    ``0..C-1``), with ``p = softmax(z)`` along the classes::

        loss = -(1/N) sum_n log p[n, y_n] = -(1/N) sum_n log_softmax(z)[n, y_n]

    Gradient: ``-log p[n, y] = -z[n, y] + log sum_k exp(z[n, k])``, and the derivative of the
    log-sum-exp with respect to ``z[n, c]`` is ``exp(z[n, c]) / sum_k exp(z[n, k]) = p[n, c]``.
    So, with ``onehot[n, c] = 1`` if ``c == y_n`` else 0::

        dloss/dz = (p - onehot) / N          shape (N, C), the dtype of z

    Fusing the softmax and the cross-entropy gives this simple, stable gradient; a separate
    softmax layer followed by ``-log`` would divide by probabilities that can be 0.

    ``forward(logits, labels)`` returns the loss as a Python ``float`` and keeps what
    ``backward`` needs (the probabilities and the labels); ``backward()`` returns
    ``dloss/dlogits``. The given first line of ``forward`` checks the inputs (``ValueError``
    for logits that are not ``(N, C)``, labels that are not ``(N,)`` integers in ``0..C-1``).

    Usual mistakes: forgetting the ``/ N`` in backward (the gradient N times too large) or
    summing instead of averaging in forward; the softmax over axis 0 (over the batch instead
    of the classes); ``np.log(softmax(z))`` (``inf`` for confident logits); a one-hot of shape
    ``(C, N)``; modifying the logits or the labels.

    Hint: ``log_softmax(logits)[np.arange(N), labels]`` picks ``log p[n, y_n]`` for every
    ``n``; ``np.eye(C, dtype=logits.dtype)[labels]`` is the one-hot matrix.
    """

    def __init__(self) -> None:
        self.probabilities: np.ndarray  # forward keeps softmax(logits) here
        self.labels: np.ndarray  # and the labels here

    def forward(self, logits: np.ndarray, labels: np.ndarray) -> float:
        _check_logits_and_labels(logits, labels)
        # BEGIN SOLUTION
        log_probabilities = log_softmax(logits, axis=1)
        self.probabilities = np.exp(log_probabilities)
        self.labels = labels
        rows = np.arange(len(labels))
        return float(-log_probabilities[rows, labels].mean())
        # END SOLUTION

    def backward(self) -> np.ndarray:
        # BEGIN SOLUTION
        n, classes = self.probabilities.shape
        onehot = np.eye(classes, dtype=self.probabilities.dtype)[self.labels]
        return (self.probabilities - onehot) / n
        # END SOLUTION

    def __repr__(self) -> str:
        return "SoftmaxCrossEntropy()"


class MeanSquaredError:
    """The mean over *all* elements of the squared difference.

    For ``prediction`` and ``target`` of the same shape, with ``M = prediction.size``::

        loss = (1/M) sum_i (prediction_i - target_i)²
        dloss/dprediction = 2 (prediction - target) / M     shape and dtype of prediction

    ``forward(prediction, target)`` returns the loss as a Python ``float`` and keeps the
    difference; ``backward()`` returns the gradient. The given first line of ``forward``
    raises ``ValueError`` when the shapes differ: ``(N, 1) - (N,)`` would silently broadcast
    to ``(N, N)``.

    Usual mistakes: dividing by N (the batch size) instead of M (all elements); forgetting the
    2; a float64 gradient for a float32 prediction when the target is float64 (cast the
    result to the prediction's dtype).

    Hint: keep ``diff = prediction - target``; ``.astype(dtype, copy=False)`` casts.
    """

    def __init__(self) -> None:
        self.diff: np.ndarray  # forward keeps prediction - target here
        self.dtype: np.dtype  # and the dtype of prediction here

    def forward(self, prediction: np.ndarray, target: np.ndarray) -> float:
        if prediction.shape != target.shape:
            raise ValueError(
                f"prediction and target must have the same shape, got {prediction.shape} "
                f"and {target.shape}"
            )
        # BEGIN SOLUTION
        self.diff = prediction - target
        self.dtype = prediction.dtype
        return float(np.mean(self.diff**2))
        # END SOLUTION

    def backward(self) -> np.ndarray:
        # BEGIN SOLUTION
        return (2 * self.diff / self.diff.size).astype(self.dtype, copy=False)
        # END SOLUTION

    def __repr__(self) -> str:
        return "MeanSquaredError()"
