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
    # BEGIN SOLUTION
    # HINT 1: Write p_c for the slice x + a (a constant added to every entry): what happens
    #   to the factor exp(a)?
    # HINT 2: p_c = exp(x_c - m) / sum_k exp(x_k - m) for any m; with m the maximum of the
    #   slice, the largest exponent is exp(0) = 1 and nothing overflows.
    # HINT 3: the maximum and the sum are reductions along axis: keep that axis with length
    #   1 so that they broadcast back against x, of shape (..., C, ...).
    # HINT 4: subtract the slice maximum (kept as an axis of length 1) into a new array,
    #   exponentiate, and divide by the sum of those exponentials along the same axis.
    # DERIVATION:
    #   For any constant $m$,
    #
    #   $$p_c = \frac{e^{x_c}}{\sum_k e^{x_k}} = \frac{e^{-m} e^{x_c}}{e^{-m} \sum_k e^{x_k}}
    #   = \frac{e^{x_c - m}}{\sum_k e^{x_k - m}}.$$
    #
    #   With $m = \max_k x_k$, every exponent is $\le 0$: each $e^{x_c - m} \in (0, 1]$,
    #   and the denominator is in $[1, C]$, so nothing overflows and nothing divides by
    #   zero. The maximum and the sum run along `axis` only; kept as axes of length 1 they
    #   broadcast back against $x$, so that $p$ has the shape of $x$.
    # MISTAKES:
    #   - No maximum subtracted: on logits of 1000 the grader reports the overflow, with
    #     `likely mistake: exp of a large number overflows and log(0) is -inf`.
    #   - The wrong axis: `likely mistake: softmax over axis 0: each row (axis=-1) is a
    #     distribution`.
    #   - A reduction without its axis kept: shapes that do not broadcast, or, for a square
    #     `x`, the wrong entries divided: the values differ from the oracle's.
    exps = np.exp(x - x.max(axis=axis, keepdims=True))
    return exps / exps.sum(axis=axis, keepdims=True)
    # END SOLUTION


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
    # BEGIN SOLUTION
    # HINT 1: Factor exp(m) out of the sum inside the log-sum-exp, with m the maximum of
    #   the slice.
    # HINT 2: log(sum_k exp(x_k)) = m + log(sum_k exp(x_k - m)), so
    #   log p_c = (x_c - m) - log(sum_k exp(x_k - m)).
    # HINT 3: the same reductions along axis as the softmax, kept as axes of length 1.
    # HINT 4: shift the slice by its maximum; the result is the shifted slice minus the log
    #   of the sum of its exponentials. No division, no log of a probability.
    # DERIVATION:
    #   With $m = \max_k x_k$,
    #
    #   $$\log \sum_k e^{x_k} = \log\Bigl(e^{m} \sum_k e^{x_k - m}\Bigr)
    #   = m + \log \sum_k e^{x_k - m},$$
    #
    #   and the sum is in $[1, C]$: its log is finite and small. Hence
    #
    #   $$\log p_c = (x_c - m) - \log \sum_k e^{x_k - m},$$
    #
    #   with the maximum and the sum along `axis`, kept as axes of length 1: the shape of
    #   $x$. For $[1000, 0]$ it gives $[0, -1000]$ exactly.
    # MISTAKES:
    #   - The log of the softmax: `-inf` for confident logits, and `likely mistake: exp of
    #     a large number overflows and log(0) is -inf`.
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
        # BEGIN SOLUTION
        # HINT 1: Of each row of log p, the loss takes one entry: the one of its label.
        # HINT 3: log p is (N, C); picking row n's column y_n for every n is one fancy index
        #   with two integer arrays of length N (the rows 0..N-1 and the labels), not a
        #   slice of every row.
        # DERIVATION:
        #   The stable $\log p = \text{log\_softmax}(z)$ along the classes (axis 1), shape
        #   $N \times C$; the loss takes entry $(n, y_n)$ of each row, $N$ numbers, and
        #   averages their negatives:
        #
        #   $$L = -\frac{1}{N} \sum_{n=1}^{N} \log p_{n y_n}.$$
        #
        #   Backward will need $p = e^{\log p}$ (shape $N \times C$) and the labels: forward
        #   keeps them.
        # MISTAKES:
        #   - A sum instead of a mean: `likely mistake: summed over the batch: the loss is
        #     the mean`.
        #   - `log_p[:, labels]`: `likely mistake: every label was taken for every row`.
        #   - The softmax over axis 0: `likely mistake: softmax over axis 0 (the batch): it
        #     is over the classes, axis 1`.
        log_probabilities = log_softmax(logits, axis=1)
        self.probabilities = np.exp(log_probabilities)
        self.labels = labels
        rows = np.arange(len(labels))
        return float(-log_probabilities[rows, labels].mean())
        # END SOLUTION

    def backward(self) -> np.ndarray:
        # BEGIN SOLUTION
        # HINT 1: Write one sample's term, -log p[n, y_n], with log_softmax: it is -z[n, y_n]
        #   plus the log-sum-exp of row n. Differentiate it with respect to z[n, c].
        # HINT 2: d/dz[n, c] of log sum_k exp(z[n, k]) is p[n, c]; d/dz[n, c] of z[n, y_n] is
        #   1 if c = y_n, else 0. So dloss/dz[n, c] = (p[n, c] - [c = y_n]) / N.
        # HINT 3: the gradient is (N, C), like p: p minus a matrix of the same shape holding
        #   a 1 at (n, y_n) in each row (a one-hot matrix of the labels, in p's dtype),
        #   divided by N.
        # HINT 4: the kept probabilities minus the one-hot matrix of the kept labels, all
        #   divided by the batch size N (the loss is a mean).
        # DERIVATION:
        #   Sample $n$ contributes $\ell_n = -\log p_{n y_n} = -z_{n y_n} + \log \sum_k
        #   e^{z_{nk}}$ to $L = \frac{1}{N} \sum_n \ell_n$, and only $\ell_n$ depends on row
        #   $n$ of $z$. For a class $c$:
        #
        #   $$\frac{\partial}{\partial z_{nc}} \log \sum_k e^{z_{nk}}
        #   = \frac{e^{z_{nc}}}{\sum_k e^{z_{nk}}} = p_{nc},
        #   \qquad \frac{\partial z_{n y_n}}{\partial z_{nc}} = [c = y_n],$$
        #
        #   so
        #
        #   $$\frac{\partial L}{\partial z_{nc}} = \frac{1}{N}\bigl(p_{nc} - [c = y_n]\bigr).$$
        #
        #   In matrix form: $(p - Y)/N$ with $Y$ the one-hot matrix of the labels
        #   ($Y_{nc} = 1$ if $c = y_n$), all of shape $N \times C$ and of the dtype of the
        #   logits. Each row sums to 0: raising one logit's probability lowers the others'.
        # MISTAKES:
        #   - No division by $N$: `likely mistake: not divided by the batch size N: the loss
        #     is a mean`.
        #   - $Y - p$: `likely mistake: wrong sign: your gradient is minus the true one`.
        #   - A float64 one-hot for float32 logits: `expected float32: the gradient has the
        #     dtype of the logits`.
        n, classes = self.probabilities.shape
        onehot = np.eye(classes, dtype=self.probabilities.dtype)[self.labels]
        return (self.probabilities - onehot) / n
        # END SOLUTION

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
        # BEGIN SOLUTION
        # HINT 1: backward needs the difference and the dtype of the prediction: keep both.
        # DERIVATION:
        #   $d_i = \hat y_i - y_i$, of the shape of the prediction, then
        #   $L = \frac{1}{M} \sum_i d_i^2$, the mean over all $M$ elements, returned as a
        #   Python float. Forward keeps $d$ and the dtype of $\hat y$: a float64 target makes
        #   $d$ float64 even for a float32 prediction.
        # STATED: prediction - target
        # MISTAKES:
        #   - Divided by the number of rows: `likely mistake: divided by the number of rows
        #     N = 3, not by the number of elements M = 12` (for a prediction of shape
        #     (3, 4)).
        self.diff = prediction - target
        self.dtype = prediction.dtype
        return float(np.mean(self.diff**2))
        # END SOLUTION

    def backward(self) -> np.ndarray:
        # BEGIN SOLUTION
        # HINT 2: d/dprediction_i of (1/M) sum_j (prediction_j - target_j)^2 keeps only the
        #   term j = i: (2/M) (prediction_i - target_i).
        # HINT 3: the gradient has one entry per element of the prediction, its shape; M is
        #   the number of elements, not the number of rows.
        # HINT 4: twice the kept difference over the number of its elements, cast to the
        #   prediction's dtype.
        # DERIVATION:
        #   Only the term $j = i$ of the sum depends on $\hat y_i$:
        #
        #   $$\frac{\partial L}{\partial \hat y_i} = \frac{1}{M} \cdot 2 (\hat y_i - y_i)
        #   = \frac{2 d_i}{M},$$
        #
        #   of the shape of the prediction, cast to its dtype (a float64 target made $d$
        #   float64).
        # MISTAKES:
        #   - Dividing by $N$ (the rows) rather than $M$: for a $(2, 2)$ prediction
        #     (`M = 4`, `N = 2`), `likely mistake: every value is 2 times the expected one`.
        #   - A float64 gradient for a float32 prediction: `expected float32 (the dtype of
        #     the prediction)`.
        return (2 * self.diff / self.diff.size).astype(self.dtype, copy=False)
        # END SOLUTION

    def __repr__(self) -> str:
        return "MeanSquaredError()"
