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
        # BEGIN SOLUTION
        # HINT 1: Decide first which mean and variance this call normalizes with: the batch's
        #   (training) or the running ones (evaluation). In training, update the running
        #   statistics from the batch's, then normalize.
        # HINT 2: mu[j] and var[j] are a mean over n, of x and of (x - mu)^2: one value per
        #   feature. The running variance takes var[j] N / (N - 1).
        # HINT 3: Reduce over axis 0 (the batch): mu, var and inv_std have shape (D,) and
        #   broadcast against (N, D) rows. In-place updates (*=, +=) keep the running
        #   statistics in their dtype.
        # HINT 4: In training: the batch mean and biased variance over axis 0; scale each
        #   running statistic by 1 - momentum and add momentum times the batch mean, or the
        #   batch variance times N / (N - 1). Then inv_std is one over the square root of the
        #   variance plus eps, xhat is x minus the mean times inv_std, and out is gamma xhat
        #   plus beta. Keep xhat, inv_std and the mode.
        # DERIVATION:
        #   For each feature $j$ (a column of $x$, $N$ values):
        #
        #   $$\mu_j = \frac{1}{N} \sum_n x_{nj}, \qquad
        #   \sigma^2_j = \frac{1}{N} \sum_n (x_{nj} - \mu_j)^2, \qquad
        #   \hat{x}_{nj} = \frac{x_{nj} - \mu_j}{\sqrt{\sigma^2_j + \epsilon}}.$$
        #
        #   $\mu$, $\sigma^2$ and $s_j = 1 / \sqrt{\sigma^2_j + \epsilon}$ have shape $(D,)$:
        #   reductions over the batch axis, broadcast back over the $N$ rows. Each column of
        #   $\hat{x}$ has mean 0 and variance $\sigma^2_j / (\sigma^2_j + \epsilon) \approx 1$;
        #   $\gamma_j \hat{x}_{nj} + \beta_j$ lets the network undo it where it helps.
        #
        #   The running variance estimates the variance of the population, so it takes the
        #   unbiased $\sigma^2_j N / (N - 1)$; the batch is normalized with its own biased
        #   $\sigma^2_j$ (PyTorch's choice). In evaluation $\mu$, $\sigma^2$ are the running
        #   statistics, constants. Backward needs $\hat{x}$ $(N, D)$, $s$ $(D,)$ and the mode.
        # MISTAKES:
        #   - A statistic over the features (axis 1) instead of the batch: `BatchNorm1d(4) in
        #     training, forward(x) with x of shape (4, 4): output differs from the expected values`,
        #     then `likely mistake: the statistics are taken over the wrong axis: batch
        #     normalization averages over the batch (axis 0), one mean and variance per feature`;
        #     where N differs from D, numpy refuses first: `ValueError: operands could not be
        #     broadcast together with shapes (3,) (4,) (3,)`.
        #   - The biased variance in the running average: `BatchNorm1d(4) in training, forward(x)
        #     with x of shape (4, 4): after one training forward: running_var differs from the
        #     expected values`, then `likely mistake: the running average takes the biased batch
        #     variance: PyTorch's convention is the unbiased one, corrected by M / (M - 1) ...`.
        #   - The unbiased variance used to normalize: `... output differs from the expected
        #     values`, then `likely mistake: normalize with the biased variance (divided by N); only
        #     the running average takes the unbiased one`.
        #   - momentum weighting the old value: `... after one training forward: running_mean
        #     differs from the expected values`, then `likely mistake: momentum weights the new
        #     batch: running = (1 - momentum) running + momentum batch (PyTorch's convention)`.
        #   - Evaluation with the batch's statistics: `BatchNorm1d(3) in evaluation mode (after 4
        #     training forwards): forward(x) with x of shape (5, 3): output differs from the
        #     expected values`, then `likely mistake: evaluation normalizes with running_mean and
        #     running_var, not the batch's statistics`.
        # STATED: 1 - self.momentum
        # STATED: var + self.eps
        if self.training:
            n = x.shape[0]
            mean, var = x.mean(axis=0), x.var(axis=0)
            self.running_mean *= 1 - self.momentum
            self.running_mean += self.momentum * mean
            self.running_var *= 1 - self.momentum
            self.running_var += self.momentum * var * (n / (n - 1))
        else:
            mean, var = self.running_mean, self.running_var
        self.batch_statistics = self.training
        self.inv_std = 1 / np.sqrt(var + self.eps)
        self.xhat = (x - mean) * self.inv_std
        return self.params["gamma"] * self.xhat + self.params["beta"]
        # END SOLUTION

    def backward(self, dout: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION
        # HINT 1: Start with the easy two: out[n, j] = gamma[j] xhat[n, j] + beta[j], and
        #   gamma, beta are shared by all N rows. Then write g[n, j] = dL/dxhat[n, j] and ask
        #   how xhat[m, j] depends on x[n, j] through mu[j] and var[j].
        # HINT 2: dL/dgamma[j] = sum_n dout[n, j] xhat[n, j] and dL/dbeta[j] = sum_n dout[n, j];
        #   g[n, j] = dout[n, j] gamma[j]. In training, with s = 1 / sqrt(var + eps),
        #   d xhat[m, j] / d x[n, j] = s ([m = n] - 1/N - xhat[m, j] xhat[n, j] / N).
        # HINT 3: Summing that over m gives, per feature, three terms of shape (N, D): g itself,
        #   the mean of g over the batch (shape (D,), broadcast), and xhat times the batch
        #   mean of g xhat; all multiplied by s, shape (D,). In evaluation only the first
        #   term is left: mu and var are constants.
        # HINT 4: Set grads["gamma"] to the sum over the batch of dout times xhat, grads["beta"]
        #   to the sum of dout over the batch. With g = dout gamma: in evaluation return g s;
        #   in training return s times (g minus its batch mean minus xhat times the batch mean
        #   of g xhat).
        # DERIVATION:
        #   Write $\delta_{nj}$ for `dout` and $s_j = (\sigma^2_j + \epsilon)^{-1/2}$.
        #
        #   **Scale and shift.** $\partial \mathrm{out}_{nj} / \partial \gamma_j = \hat{x}_{nj}$
        #   and $\partial \mathrm{out}_{nj} / \partial \beta_j = 1$, for every row $n$:
        #
        #   $$\frac{\partial L}{\partial \gamma_j} = \sum_n \delta_{nj} \hat{x}_{nj}, \qquad
        #   \frac{\partial L}{\partial \beta_j} = \sum_n \delta_{nj}, \qquad (D,).$$
        #
        #   **Input.** Let $g_{nj} = \partial L / \partial \hat{x}_{nj} = \delta_{nj} \gamma_j$,
        #   $(N, D)$. Features do not mix, so fix $j$ and drop it. In training,
        #   $\partial \mu / \partial x_n = 1/N$ and, since $\sum_m (x_m - \mu) = 0$,
        #   $\partial \sigma^2 / \partial x_n = 2 (x_n - \mu) / N$, so
        #   $\partial s / \partial x_n = -s^3 (x_n - \mu) / N$ and
        #
        #   $$\frac{\partial \hat{x}_m}{\partial x_n} = s \left([m = n] - \frac{1}{N}\right)
        #   - \frac{s}{N} \hat{x}_m \hat{x}_n.$$
        #
        #   Summing over every output $m$ that $x_n$ reaches:
        #
        #   $$\frac{\partial L}{\partial x_n} = \sum_m g_m \frac{\partial \hat{x}_m}{\partial
        #   x_n} = s \left( g_n - \frac{1}{N} \sum_m g_m - \hat{x}_n \frac{1}{N} \sum_m g_m
        #   \hat{x}_m \right),$$
        #
        #   shape $(N, D)$ once $j$ is back: the two batch means are $(D,)$ vectors broadcast
        #   over the rows. In evaluation $\mu$ and $\sigma^2$ are constants and only
        #   $\partial L / \partial x_n = s\, g_n$ remains. The gradient of $x$ sums to zero
        #   over the batch in training: shifting every sample alike changes nothing.
        # MISTAKES:
        #   - mu and var treated as constants in training (the evaluation formula): `gradient check
        #     failed: dx of BatchNorm1d(3) in training on x of shape (4, 3)`, `relative error
        #     5.5e-01 (allowed 1e-06)`.
        #   - A mean over the batch instead of a sum for beta (or gamma): `gradient check failed:
        #     grads['beta'] of BatchNorm1d(3) in training on x of shape (4, 3)`, then `likely
        #     mistake: divided by the batch size N = 4 once too often (layers sum over the batch;
        #     only the loss divides by N)`.
        xhat, inv_std = self.xhat, self.inv_std
        self.grads["gamma"] = (dout * xhat).sum(axis=0)
        self.grads["beta"] = dout.sum(axis=0)
        g = dout * self.params["gamma"]
        if not self.batch_statistics:
            return g * inv_std
        return inv_std * (g - g.mean(axis=0) - xhat * (g * xhat).mean(axis=0))
        # END SOLUTION

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
        # BEGIN SOLUTION
        # HINT 1: Which array of shape (M, C) holds, in each column, the M = N H W values that
        #   channel c is normalized over? BatchNorm1d already normalizes such an array.
        # HINT 2: out[n, c, y, z] depends on x[., c, ., .] exactly as BatchNorm1d's out[m, c]
        #   depends on its column c, with one row m per (n, y, z).
        # HINT 3: Move the channel axis last, (N, H, W, C), and merge the first three into
        #   M rows; after the 1-d normalization, undo both steps to get (N, C, H, W) back.
        # HINT 4: Transpose x to channels-last, reshape to (N H W, C), call BatchNorm1d's
        #   forward on it (super().forward), then reshape to (N, H, W, C) and transpose the
        #   channel axis back to position 1.
        # DERIVATION:
        #   Let $m = (n, y, z)$ range over the $M = NHW$ positions. Then $x'_{mc} =
        #   x_{n,c,y,z}$ is an $(M, C)$ array, and the definition is exactly `BatchNorm1d`'s
        #   on $x'$: the same means, variances, running statistics (with $M / (M - 1)$) and
        #   output, read back in the shape $(N, C, H, W)$. Since the relabelling only moves
        #   values, the gradient comes back the same way (see `backward`).
        # MISTAKES:
        #   - Statistics over the batch axis only, one per channel and position: `BatchNorm2d(3) in
        #     training, forward(x) with x of shape (2, 3, 4, 5): output differs from the expected
        #     values`, then `likely mistake: the statistics are taken over the wrong axes:
        #     BatchNorm2d averages each channel over N, H and W`.
        n, channels, height, width = x.shape
        rows = x.transpose(0, 2, 3, 1).reshape(-1, channels)
        out = super().forward(rows)
        return out.reshape(n, height, width, channels).transpose(0, 3, 1, 2)
        # END SOLUTION

    def backward(self, dout: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION
        # DERIVATION:
        #   The relabelling $x'_{mc} = x_{n,c,y,z}$ is a permutation of the values, so
        #   $\partial L / \partial x_{n,c,y,z} = \partial L / \partial x'_{mc}$: `dout` goes
        #   to channels-last rows $(M, C)$, through `BatchNorm1d.backward` (which also sets
        #   the gradients of $\gamma$ and $\beta$, $(C,)$), and back to $(N, C, H, W)$.
        n, channels, height, width = dout.shape
        rows = dout.transpose(0, 2, 3, 1).reshape(-1, channels)
        dx = super().backward(rows)
        return dx.reshape(n, height, width, channels).transpose(0, 3, 1, 2)
        # END SOLUTION


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
        # BEGIN SOLUTION
        # HINT 1: The same three steps as batch normalization (mean, variance, standardize),
        #   along the other axis. Which axis is it, and what shape do mu and var have?
        # HINT 2: mu[n] and var[n] are means over j: one value per sample.
        # HINT 3: Reduce over axis 1 and keep that axis (shape (N, 1)) so that the statistics
        #   broadcast along each row; gamma and beta, (D,), broadcast along the columns.
        # HINT 4: The mean and biased variance of each row (axis 1, dimensions kept), inv_std
        #   one over the square root of the variance plus eps, xhat the centred rows times
        #   inv_std, out gamma xhat plus beta; keep xhat and inv_std.
        # DERIVATION:
        #   For each sample $n$ (a row of $D$ values):
        #
        #   $$\mu_n = \frac{1}{D} \sum_j x_{nj}, \qquad \sigma^2_n = \frac{1}{D} \sum_j
        #   (x_{nj} - \mu_n)^2, \qquad \hat{x}_{nj} = (x_{nj} - \mu_n)\, s_n,$$
        #
        #   $s_n = (\sigma^2_n + \epsilon)^{-1/2}$: $\mu$, $\sigma^2$, $s$ are $(N, 1)$ columns
        #   broadcast along the rows, while $\gamma$, $\beta$ $(D,)$ broadcast down the
        #   columns. Nothing depends on the other samples, so training and evaluation agree.
        # MISTAKES:
        #   - The statistics over the batch (axis 0): `LayerNorm(4), forward(x) with x of shape (3,
        #     4): output differs from the expected values`, then `likely mistake: the statistics are
        #     taken over the wrong axis: layer normalization averages over the features of each
        #     sample (axis 1)`.
        # STATED: var + self.eps
        mean = x.mean(axis=1, keepdims=True)
        var = x.var(axis=1, keepdims=True)
        self.inv_std = 1 / np.sqrt(var + self.eps)
        self.xhat = (x - mean) * self.inv_std
        return self.params["gamma"] * self.xhat + self.params["beta"]
        # END SOLUTION

    def backward(self, dout: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION
        # HINT 1: gamma and beta are as in batch normalization. For dx, redo BatchNorm1d's
        #   derivation for one sample: which values does xhat[n, k] depend on?
        # HINT 2: With g[n, j] = dout[n, j] gamma[j] and s[n] = 1 / sqrt(var[n] + eps),
        #   d xhat[n, k] / d x[n, j] = s[n] ([k = j] - 1/D - xhat[n, k] xhat[n, j] / D).
        # HINT 3: The two means of the formula run over the features of one sample (axis 1,
        #   kept as (N, 1)); the sums for gamma and beta still run over the batch (axis 0).
        # HINT 4: grads as in BatchNorm1d; dx is s times (g minus its mean over each row minus
        #   xhat times the mean over each row of g xhat).
        # DERIVATION:
        #   $\partial L / \partial \gamma_j = \sum_n \delta_{nj} \hat{x}_{nj}$ and
        #   $\partial L / \partial \beta_j = \sum_n \delta_{nj}$ (shape $(D,)$), as for batch
        #   normalization. For the input, fix a sample $n$: its $D$ values play the part of
        #   the batch in `BatchNorm1d`'s derivation, so with $g_{nj} = \delta_{nj} \gamma_j$,
        #
        #   $$\frac{\partial L}{\partial x_{nj}} = s_n \left( g_{nj} - \frac{1}{D} \sum_k g_{nk}
        #   - \hat{x}_{nj} \frac{1}{D} \sum_k g_{nk} \hat{x}_{nk} \right),$$
        #
        #   shape $(N, D)$, with the two means $(N, 1)$ columns broadcast along each row.
        # MISTAKES:
        #   - The two means of dx over the batch (axis 0), copied from batch normalization:
        #     `gradient check failed: dx of LayerNorm(3) on x of shape (3, 3)`, then `likely
        #     mistake: the sums of LayerNorm's backward run over the batch (axis 0), as in
        #     BatchNorm1d: ...`.
        xhat, inv_std = self.xhat, self.inv_std
        self.grads["gamma"] = (dout * xhat).sum(axis=0)
        self.grads["beta"] = dout.sum(axis=0)
        g = dout * self.params["gamma"]
        g_mean = g.mean(axis=1, keepdims=True)
        return inv_std * (g - g_mean - xhat * (g * xhat).mean(axis=1, keepdims=True))
        # END SOLUTION

    def __repr__(self) -> str:
        return f"LayerNorm({self.num_features})"
