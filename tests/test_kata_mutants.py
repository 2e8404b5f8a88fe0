"""The suite catches the mistakes learners make, and the grader's message points at them.

Each case plants one classic mistake in a copy of the reference (a sign, a missing bias
gradient, a missing division by the batch size, ...), grades that copy as if it were a learner's
``exercises/`` and requires the exercise to be reported as not done, with a message that names
the mistake. A mistake the suite lets through is a hole in the judge.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from kata.curriculum import exercise, exercise_modules
from kata.paths import REPOSITORY


@dataclass(frozen=True)
class Mutant:
    """One planted mistake: ``original`` becomes ``planted`` in ``reference/<module>.py``."""

    name: str
    exercise_id: str
    original: str
    planted: str
    expected_in_report: str


MUTANTS = (
    Mutant(
        "linear dW with the wrong sign",
        "linear",
        'self.grads["W"] = self.x.T @ dout',
        'self.grads["W"] = -(self.x.T @ dout)',
        "sign",
    ),
    Mutant(
        "linear without a bias gradient",
        "linear",
        'self.grads["b"] = dout.sum(axis=0)',
        "pass",
        "grads['b']",
    ),
    Mutant(
        "linear dW divided by the batch size",
        "linear",
        'self.grads["W"] = self.x.T @ dout',
        'self.grads["W"] = self.x.T @ dout / len(dout)',
        "batch size",
    ),
    Mutant(
        "cross-entropy gradient not divided by the batch size",
        "softmax_cross_entropy",
        "return (self.probabilities - onehot) / n",
        "return self.probabilities - onehot",
        "batch size",
    ),
    Mutant(
        "softmax without subtracting the maximum",
        "softmax_cross_entropy",
        "exps = np.exp(x - x.max(axis=axis, keepdims=True))",
        "exps = np.exp(x)",
        "subtract the maximum",
    ),
    Mutant(
        "numerical gradient by forward differences",
        "numerical_gradient",
        "grad[i] = (f_plus - f_minus) / (2 * h)",
        "grad[i] = (f_plus - float(f(x))) / h",
        "central",
    ),
    Mutant(
        "ReLU backward lets every gradient through",
        "activations",
        "return dout * self.positive",
        "return dout",
        "x > 0",
    ),
    Mutant(
        "Adam without bias correction of the first moment",
        "optim",
        "step = np.divide(m, m_correction, out=term)",
        "step = np.multiply(m, 1.0, out=term)",
        "bias-corrected",
    ),
    Mutant(
        "Sequential backward in forward order",
        "network",
        "for layer in reversed(self.layers):",
        "for layer in self.layers:",
        "chain rule starts from the output",
    ),
    Mutant(
        "training loop drops the last partial batch",
        "training",
        "batch = order[start : start + batch_size]",
        "batch = order[start : start + batch_size]\n"
        "        if len(batch) < batch_size:\n"
        "            break",
        "partial batch is kept",
    ),
    Mutant(
        "convolution instead of cross-correlation (flipped kernel)",
        "conv",
        'out = self.params["W"].reshape(out_channels, -1) @ cols',
        'out = self.params["W"][:, :, ::-1, ::-1].reshape(out_channels, -1) @ cols',
        "flipped",
    ),
    Mutant(
        "col2im overwrites where windows overlap",
        "conv",
        "dx_padded[:, :, rows, columns] += cols6[:, p, q]",
        "dx_padded[:, :, rows, columns] = cols6[:, p, q]",
        "(+=",
    ),
    Mutant(
        "max pooling sends the gradient to the whole window",
        "pool",
        "np.equal(x[index], out, out=is_max)\n            is_max &= unclaimed",
        "is_max[...] = True",
        "non-maxima",
    ),
)


def _planted_copy(mutant: Mutant, root: Path) -> Path:
    """Write ``root/exercises``: the reference's exercise modules with the mistake planted."""
    package = root / "exercises"
    package.mkdir()
    (package / "__init__.py").write_text('"""A planted-mistake copy of the reference."""\n')
    target = exercise(mutant.exercise_id).module
    for module in exercise_modules():
        shutil.copy(REPOSITORY / "reference" / f"{module}.py", package / f"{module}.py")
    path = package / f"{target}.py"
    source = path.read_text()
    assert source.count(mutant.original) == 1, (
        f"the line to mutate, {mutant.original!r}, is not in reference/{target}.py exactly "
        "once: update this case with the reference"
    )
    path.write_text(source.replace(mutant.original, mutant.planted))
    return root


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda mutant: mutant.name)
def test_grader_reports_planted_mistake(mutant: Mutant, tmp_path: Path) -> None:
    root = _planted_copy(mutant, tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "kata.grade", mutant.exercise_id, "--impl-dir", str(root)],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = result.stdout + result.stderr
    assert "0 of 1 exercises done" in report, f"planted mistake not caught: {mutant.name}\n{report}"
    assert mutant.expected_in_report in report, (
        f"the grader caught {mutant.name!r} but its report does not say "
        f"{mutant.expected_in_report!r}:\n{report}"
    )


def test_copying_the_reference_into_a_stub_file_turns_exactly_that_row_to_done(
    tmp_path: Path,
) -> None:
    """The control of the cases above: the same grading marks the unplanted module done."""
    subprocess.run(
        [sys.executable, "-m", "kata.generate", "--stubs-to", str(tmp_path)],
        cwd=REPOSITORY,
        check=True,
        capture_output=True,
    )
    shutil.copy(REPOSITORY / "reference" / "linear.py", tmp_path / "exercises" / "linear.py")
    result = subprocess.run(
        [sys.executable, "-m", "kata.grade", "linear", "activations", "--impl-dir", str(tmp_path)],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=300,
    )
    rows = {line.split()[0]: line for line in result.stdout.splitlines() if line[:1].isalpha()}
    assert "done" in rows.get("linear", "").split(), result.stdout
    assert "not started" in rows.get("activations", ""), result.stdout
    assert "1 of 2 exercises done" in result.stdout, result.stdout
