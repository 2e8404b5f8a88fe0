# Generated from reference/normalization.py by `nox -s exercises`: this is your file, edit it.
# Replace each `raise NotImplementedError(...)` with your code; `nox` grades it.
"""Exercise ``batchnorm``: batch normalization (dense and convolutional) and layer normalization.

Batch normalization (Ioffe and Szegedy, 2015) standardizes every feature over the batch, then
lets the network rescale and shift it with two learned vectors; it keeps running averages of the
batch statistics to use in evaluation, when there may be no batch to speak of. Layer
normalization (Ba, Kiros and Hinton, 2016) standardizes every *sample* over its features
instead: the same derivation with the roles of the two axes exchanged, and no running averages.

The conventions are PyTorch's (``torch.nn.BatchNorm1d``, ``BatchNorm2d``, ``LayerNorm``):
``eps = 1e-5`` inside the square root, ``momentum = 0.1`` weighting the *new* batch, the biased
variance (divided by N) to normalize and the unbiased one (divided by N - 1) in the running
average. The constructors and the input checks are given; you write ``forward`` and
``backward``. ``nox -s hint -- batchnorm`` helps when you are stuck.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from toolkit import checks
from toolkit.layer import Layer


class BatchNorm1d(Layer):
    """Batch normalization of dense inputs ``(N, D)``: each feature j standardized over the batch.

    Definition, in training mode (``training`` True, the default), for x of shape (N, D)::

        mu[j]  = (1/N) sum_n x[n, j]                          the batch mean of feature j
        var[j] = (1/N) sum_n (x[n, j] - mu[j])^2              its biased variance
        xhat[n, j] = (x[n, j] - mu[j]) / sqrt(var[j] + eps)
        out[n, j]  = gamma[j] xhat[n, j] + beta[j]

    and the running statistics are updated, once per training forward (PyTorch's equations)::

        running_mean[j] <- (1 - momentum) running_mean[j] + momentum mu[j]
        running_var[j]  <- (1 - momentum) running_var[j]  + momentum var[j] N / (N - 1)

    (the *unbiased* variance in the running average, the biased one to normalize). In
    evaluation mode (after ``eval()``) the running statistics take the place of mu and var, and
    are not updated: every sample is then normalized on its own, whatever the batch.

    Shapes::

        x, out, dout, dx            (N, D)
        gamma, beta                 (D,)    params["gamma"] (starts at 1), params["beta"] (at 0)
        running_mean, running_var   (D,)    attributes, start at 0 and 1, the layer's dtype

    Contract: ``forward(x)`` returns ``out`` and keeps what ``backward`` needs (declared in the
    constructor: ``self.xhat``, ``self.inv_std`` = 1 / sqrt(var + eps) of the statistics used,
    and ``self.batch_statistics``, whether that forward used the batch's statistics).
    ``backward(dout)`` sets ``grads["gamma"]`` and ``grads["beta"]`` (their shapes and dtypes)
    and returns dL/dx for the latest forward. The running statistics keep their shape and dtype
    (update them in place, or assign arrays of that dtype).

    To derive: dL/dgamma[j], dL/dbeta[j] and dL/dx[n, j]. In evaluation mode mu and var are
    constants. In training they are functions of every x[., j]: sample n's output depends on
    every sample of the batch, and dL/dx[n, j] collects all of those paths. Write it in terms of
    xhat and sums over the batch.

    The grader checks: the output and the running statistics against a loop-by-loop oracle;
    the three gradients against central differences in training mode (over random shapes) and
    in evaluation mode; the running statistics after several steps of different batch sizes
    against the recurrence; that evaluation uses them; float32 and float64; non-contiguous
    inputs; that x and dout are never modified.

    Given checks in ``forward``: a ``ValueError`` for an x that is not ``(N, num_features)``,
    and, in training, for a batch with a single value per feature (its variance is 0 and the
    unbiased one is undefined; PyTorch refuses it too).

    Args:
        num_features: D, the number of features (a positive int).
        eps: added to the variance under the square root (a number > 0).
        momentum: the weight of the new batch in the running averages (a number in [0, 1)).
        dtype: the dtype of the parameters and running statistics.
    """

    def __init__(
        self,
        num_features: int,
        *,
        eps: float = 1e-5,
        momentum: float = 0.1,
        dtype: npt.DTypeLike = np.float32,
    ) -> None:
        super().__init__()
        self.num_features = checks.positive_int("num_features", num_features)
        self.eps = checks.positive("eps", eps)
        self.momentum = checks.fraction("momentum", momentum)
        dtype = checks.floating_dtype("dtype", dtype)
        self.params["gamma"] = np.ones(self.num_features, dtype=dtype)
        self.params["beta"] = np.zeros(self.num_features, dtype=dtype)
        self.running_mean = np.zeros(self.num_features, dtype=dtype)
        self.running_var = np.ones(self.num_features, dtype=dtype)
        self.xhat: np.ndarray  # forward keeps the normalized input,
        self.inv_std: np.ndarray  # 1 / sqrt(var + eps) per feature,
        self.batch_statistics: bool  # and whether it normalized with the batch's statistics

    def check_batch(self, values: int) -> None:
        """Refuse, in training, a batch that gives one value per feature: no variance (given)."""
        if self.training and values < 2:
            raise ValueError(
                f"{self!r} in training needs more than one value per feature to compute a "
                f"variance, got {values}; use a batch of at least 2, or eval()"
            )

    def forward(self, x: np.ndarray) -> np.ndarray:
        checks.shape("x", x, ("N", self.num_features), where=repr(self))
        self.check_batch(x.shape[0])
        raise NotImplementedError(
            "batchnorm: implement BatchNorm1d.forward in exercises/normalization.py"
        )

    def backward(self, dout: np.ndarray) -> np.ndarray:
        raise NotImplementedError(
            "batchnorm: implement BatchNorm1d.backward in exercises/normalization.py"
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.num_features})"


class BatchNorm2d(BatchNorm1d):
    """Batch normalization of images ``(N, C, H, W)``: statistics per channel over N, H and W.

    Definition: ``BatchNorm1d``'s, where a channel c plays the part of a feature and its
    N * H * W values the part of the batch::

        mu[c]  = (1/(N H W)) sum_{n, y, z} x[n, c, y, z]
        var[c] = (1/(N H W)) sum_{n, y, z} (x[n, c, y, z] - mu[c])^2
        out[n, c, y, z] = gamma[c] (x[n, c, y, z] - mu[c]) / sqrt(var[c] + eps) + beta[c]

    with the running statistics updated as in ``BatchNorm1d`` (the unbiased variance multiplies
    by M / (M - 1), M = N * H * W) and used in evaluation. One gamma and one beta per channel,
    shared by every position of the image, as a convolution's filter is.

    Shapes: x, out, dout, dx ``(N, C, H, W)``; gamma, beta, running_mean, running_var ``(C,)``.

    Contract and what to derive: those of ``BatchNorm1d`` (this class inherits its constructor,
    its cached attributes and its two methods, which you may call). The grader checks what it
    checks for ``BatchNorm1d``, on images, with a loop oracle over channels.

    Args:
        num_features: C, the number of channels. The keywords are ``BatchNorm1d``'s.
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        checks.shape("x", x, ("N", self.num_features, "H", "W"), where=repr(self))
        self.check_batch(x.shape[0] * x.shape[2] * x.shape[3])
        raise NotImplementedError(
            "batchnorm: implement BatchNorm2d.forward in exercises/normalization.py"
        )

    def backward(self, dout: np.ndarray) -> np.ndarray:
        raise NotImplementedError(
            "batchnorm: implement BatchNorm2d.backward in exercises/normalization.py"
        )


class LayerNorm(Layer):
    """Layer normalization of ``(N, D)``: each sample standardized over its own features.

    Definition, the same in training and in evaluation, for x of shape (N, D)::

        mu[n]  = (1/D) sum_j x[n, j]                          the mean of sample n
        var[n] = (1/D) sum_j (x[n, j] - mu[n])^2              its biased variance
        xhat[n, j] = (x[n, j] - mu[n]) / sqrt(var[n] + eps)
        out[n, j]  = gamma[j] xhat[n, j] + beta[j]

    No running statistics: a sample needs no batch to be normalized. gamma and beta are per
    feature, as in batch normalization (PyTorch's ``LayerNorm(D)``).

    Shapes: x, out, dout, dx ``(N, D)``; gamma (starts at 1), beta (at 0) ``(D,)``.

    Contract: ``forward(x)`` keeps what ``backward`` needs (``self.xhat`` and ``self.inv_std``,
    1 / sqrt(var + eps) per sample, declared in the constructor); ``backward(dout)`` sets
    ``grads["gamma"]`` and ``grads["beta"]`` and returns dL/dx.

    To derive: dL/dgamma[j], dL/dbeta[j] and dL/dx[n, j]. Compare with ``BatchNorm1d``: which
    sums run over the batch, and which over the features?

    The grader checks: the output against a loop oracle, the three gradients against central
    differences over random shapes, that the mode changes nothing, float32, non-contiguous
    inputs, several calls of different batch sizes, and that x and dout are never modified.

    Args:
        num_features: D (a positive int).
        eps: added to the variance under the square root (a number > 0).
        dtype: the dtype of the parameters.
    """

    def __init__(
        self, num_features: int, *, eps: float = 1e-5, dtype: npt.DTypeLike = np.float32
    ) -> None:
        super().__init__()
        self.num_features = checks.positive_int("num_features", num_features)
        self.eps = checks.positive("eps", eps)
        dtype = checks.floating_dtype("dtype", dtype)
        self.params["gamma"] = np.ones(self.num_features, dtype=dtype)
        self.params["beta"] = np.zeros(self.num_features, dtype=dtype)
        self.xhat: np.ndarray  # forward keeps the normalized input
        self.inv_std: np.ndarray  # and 1 / sqrt(var + eps) per sample

    def forward(self, x: np.ndarray) -> np.ndarray:
        checks.shape("x", x, ("N", self.num_features), where=repr(self))
        raise NotImplementedError(
            "batchnorm: implement LayerNorm.forward in exercises/normalization.py"
        )

    def backward(self, dout: np.ndarray) -> np.ndarray:
        raise NotImplementedError(
            "batchnorm: implement LayerNorm.backward in exercises/normalization.py"
        )

    def __repr__(self) -> str:
        return f"LayerNorm({self.num_features})"
