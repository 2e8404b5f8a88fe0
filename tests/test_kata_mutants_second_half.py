"""The planted-mistake cases of the second half: dropout, normalization, clipping.

The harness is ``tests/test_kata_mutants.py``'s (a copy of the reference with one mistake
planted, graded as a learner's ``exercises/``); each case here is one classic mistake of the
new exercises, and the grader's report must name it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kata.paths import REPOSITORY
from tests.test_kata_mutants import Mutant, _planted_copy, assert_graded_and_named

MUTANTS = (
    Mutant(
        "dropout scaled at evaluation",
        "dropout",
        "return x.copy()",
        "return x / (1 - self.p)",
        "evaluation mode is the identity",
    ),
    Mutant(
        "dropout with p as the keep probability",
        "dropout",
        "keep = self.rng.random(x.shape) >= self.p",
        "keep = self.rng.random(x.shape) < self.p",
        "p is the probability to drop",
    ),
    Mutant(
        "dropout without rescaling the kept elements",
        "dropout",
        "self.mask = keep.astype(x.dtype) / x.dtype.type(1.0 - self.p)",
        "self.mask = keep.astype(x.dtype)",
        "divided by 1 - p",
    ),
    Mutant(
        "dropout mask from numpy's global generator",
        "dropout",
        "keep = self.rng.random(x.shape) >= self.p",
        "keep = np.random.random(x.shape) >= self.p",
        "the generator given at construction",
    ),
    Mutant(
        "dropout draws the same mask at every call",
        "dropout",
        "keep = self.rng.random(x.shape) >= self.p",
        "keep = np.random.default_rng(0).random(x.shape) >= self.p",
        "every training forward draws a new mask",
    ),
    Mutant(
        "dropout draws one mask for the whole batch",
        "dropout",
        "keep = self.rng.random(x.shape) >= self.p",
        "keep = self.rng.random(x.shape[1:]) >= self.p",
        "every sample got the same mask",
    ),
    Mutant(
        "dropout draws a new mask in backward",
        "dropout",
        "return dout * self.mask",
        "return dout * (self.rng.random(dout.shape) >= self.p) / (1 - self.p)",
        "backward must use the mask of the latest forward",
    ),
    Mutant(
        "dropout backward without the scale",
        "dropout",
        "return dout * self.mask",
        "return dout * (self.mask != 0)",
        "backward scaled the gradient of the kept elements by 1",
    ),
    Mutant(
        "dropout backward scaled at evaluation",
        "dropout",
        "self.mask = np.ones((), dtype=x.dtype)",
        "self.mask = np.asarray(1.0 - self.p, dtype=x.dtype)",
        "backward in evaluation mode scaled dx by 1 - p",
    ),
    Mutant(
        "batch-norm beta gradient as a mean over the batch",
        "batchnorm",
        'self.grads["beta"] = dout.sum(axis=0)\n'
        '        g = dout * self.params["gamma"]\n'
        "        if not self.batch_statistics:",
        'self.grads["beta"] = dout.mean(axis=0)\n'
        '        g = dout * self.params["gamma"]\n'
        "        if not self.batch_statistics:",
        "divided by the batch size",
    ),
    Mutant(
        "batch-norm variance over the wrong axis",
        "batchnorm",
        "mean, var = x.mean(axis=0), x.var(axis=0)",
        "mean, var = x.mean(axis=0), x.var(axis=1)",
        "statistics are taken over the wrong axis",
    ),
    Mutant(
        "batch-norm biased variance in the running average",
        "batchnorm",
        "self.running_var += self.momentum * var * (n / (n - 1))",
        "self.running_var += self.momentum * var",
        "the running average takes the biased batch variance",
    ),
    Mutant(
        "batch-norm unbiased variance to normalize",
        "batchnorm",
        "mean, var = x.mean(axis=0), x.var(axis=0)",
        "mean, var = x.mean(axis=0), x.var(axis=0, ddof=1)",
        "normalize with the biased variance",
    ),
    Mutant(
        "batch-norm momentum weighting the old running mean",
        "batchnorm",
        "self.running_mean *= 1 - self.momentum\n"
        "            self.running_mean += self.momentum * mean",
        "self.running_mean *= self.momentum\n"
        "            self.running_mean += (1 - self.momentum) * mean",
        "momentum weights the new batch",
    ),
    Mutant(
        "batch-norm evaluation with the batch statistics",
        "batchnorm",
        "mean, var = self.running_mean, self.running_var",
        "mean, var = x.mean(axis=0), x.var(axis=0)",
        "evaluation normalizes with running_mean and running_var",
    ),
    Mutant(
        "batch-norm backward treats the batch statistics as constants",
        "batchnorm",
        "if not self.batch_statistics:\n            return g * inv_std",
        "return g * inv_std",
        "gradient check failed: dx of BatchNorm1d",
    ),
    Mutant(
        "BatchNorm2d statistics over the batch axis only",
        "batchnorm",
        "rows = x.transpose(0, 2, 3, 1).reshape(-1, channels)\n"
        "        out = super().forward(rows)\n"
        "        return out.reshape(n, height, width, channels).transpose(0, 3, 1, 2)",
        "self.batch_statistics = True\n"
        "        mean, var = x.mean(axis=0), x.var(axis=0)\n"
        "        self.inv_std = 1 / np.sqrt(var + self.eps)\n"
        "        self.xhat = (x - mean) * self.inv_std\n"
        '        gamma = self.params["gamma"][:, None, None]\n'
        '        return gamma * self.xhat + self.params["beta"][:, None, None]',
        "the statistics are taken over the wrong axes",
    ),
    Mutant(
        "layer norm over the batch axis",
        "batchnorm",
        "mean = x.mean(axis=1, keepdims=True)\n        var = x.var(axis=1, keepdims=True)",
        "mean = x.mean(axis=0, keepdims=True)\n        var = x.var(axis=0, keepdims=True)",
        "layer normalization averages over the",
    ),
    Mutant(
        "layer norm backward with the means of batch normalization",
        "batchnorm",
        "g_mean = g.mean(axis=1, keepdims=True)\n"
        "        return inv_std * (g - g_mean - xhat * (g * xhat).mean(axis=1, keepdims=True))",
        "g_mean = g.mean(axis=0, keepdims=True)\n"
        "        return inv_std * (g - g_mean - xhat * (g * xhat).mean(axis=0, keepdims=True))",
        "the sums of LayerNorm's backward run over the batch",
    ),
    Mutant(
        "gradient clipping with one norm per array",
        "clipping",
        "    coefficient = max_norm / (total_norm + 1e-6)\n"
        "    if coefficient < 1:\n"
        "        for grad in grads.values():\n"
        "            grad *= coefficient",
        "    for grad in grads.values():\n"
        "        coefficient = max_norm / (float(np.sqrt(np.sum(grad**2))) + 1e-6)\n"
        "        if coefficient < 1:\n"
        "            grad *= coefficient",
        "one norm over every array together",
    ),
    Mutant(
        "gradient clipping below the threshold too",
        "clipping",
        "if coefficient < 1:",
        "if True:",
        "clipping never makes a gradient",
    ),
    Mutant(
        "gradient clipping returns the norm after clipping",
        "clipping",
        "    return total_norm\n    # END SOLUTION",
        "    return float(np.sqrt(sum(np.sum(g**2) for g in grads.values())))\n    # END SOLUTION",
        "computed before the clipping",
    ),
    Mutant(
        "gradient clipping into new arrays",
        "clipping",
        "        for grad in grads.values():\n            grad *= coefficient",
        "        for name in list(grads):\n            grads[name] = grads[name] * coefficient",
        "change the arrays in place",
    ),
    Mutant(
        "clipping by value into new arrays",
        "clipping",
        "np.clip(grad, -clip_value, clip_value, out=grad)",
        "grad = np.clip(grad, -clip_value, clip_value)",
        "change the arrays in place",
    ),
)


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda mutant: mutant.name)
def test_grader_reports_planted_mistake(mutant: Mutant, tmp_path: Path) -> None:
    assert_graded_and_named(mutant, tmp_path)


def test_a_wrong_clip_grad_norm_does_not_fail_the_given_wrapper(tmp_path: Path) -> None:
    """One mistake, one failure: the test of the given ClippedOptimizer judges the wrapper
    against the implementation's own clip_grad_norm, so a wrong clip_grad_norm is reported by
    the clipping tests only, not also as a fault of the given code."""
    [mutant] = [m for m in MUTANTS if m.name == "gradient clipping with one norm per array"]
    root = _planted_copy(mutant, tmp_path)
    test = "tests/test_clipping.py::test_clipped_optimizer_clips_before_the_step"
    command = [sys.executable, "-m", "pytest", test, "--impl", "exercises", "--impl-dir", str(root)]
    result = subprocess.run(
        [*command, "-q", "-p", "no:cacheprovider"],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, (
        f"with {mutant.name!r} planted, the test of the given wrapper fails too:\n"
        f"{result.stdout}{result.stderr}"
    )
