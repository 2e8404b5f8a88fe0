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
        "overflowed to inf",
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
        "Adam counts one step per call for all the parameters (the paper's t)",
        "optim",
        "t = self.steps[name] = self.steps.get(name, 0) + 1  # this parameter's steps",
        # the first name of a call raises the count, the others take it: one t per call
        "t = self.steps[name] = max(self.steps.values(), default=0) + (name == next(iter(params)))",
        "one step count for the whole optimizer",
    ),
    Mutant(
        "im2col with a Python loop over the samples (the rule of speed, counted in the worker)",
        "conv",
        "cols = np.empty((channels, kh, kw, out_height, out_width, n), dtype=x.dtype)",
        "for _sample in range(n):\n        _sample += 0\n"
        "    cols = np.empty((channels, kh, kw, out_height, out_width, n), dtype=x.dtype)",
        "a Python loop over the samples",
    ),
    Mutant(
        "col2im cuts the padded image at its corner",
        "conv",
        "dx = dx_padded[:, padding : padding + height, padding : padding + width]",
        "dx = dx_padded[:, :height, :width]",
        "cut at the wrong place",
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
        "dx_padded[:, rows, columns] += cols6[:, p, q]",
        "dx_padded[:, rows, columns] = cols6[:, p, q]",
        "(+=",
    ),
    Mutant(
        "max pooling sends the gradient to the whole window",
        "pool",
        "np.equal(x[index], out, out=is_max)\n            is_max &= unclaimed",
        "is_max[...] = True",
        "non-maxima",
    ),
    # Mistakes that only show across calls (tests/test_across_calls.py).
    Mutant(
        "naive convolution adds each backward's dW to the last",
        "conv_naive",
        "dW = np.zeros_like(W)",
        'dW = self.grads.setdefault("W", np.zeros_like(W))',
        "do not add to it (+=)",
    ),
    Mutant(
        "im2col buffer allocated for the first input's shape",
        "conv",
        "cols = im2col(x, kh, kw, self.stride, self.padding)",
        'if not hasattr(self, "_cols"):\n'
        "            self._cols = im2col(x, kh, kw, self.stride, self.padding)\n"
        "        self._cols[...] = im2col(x, kh, kw, self.stride, self.padding)\n"
        "        cols = self._cols",
        "on a new layer raises nothing",
    ),
    Mutant(
        "convolution keeps the reshaped W of its first forward",
        "conv",
        'out = self.params["W"].reshape(out_channels, -1) @ cols',
        'if not hasattr(self, "_W2"):\n'
        '            self._W2 = self.params["W"].reshape(out_channels, -1)\n'
        "        out = self._W2 @ cols",
        "from before it was replaced",
    ),
    Mutant(
        "max pooling keeps the window slices of its first input",
        "pool",
        "windows = self.window_slices(out_height, out_width)",
        'if not hasattr(self, "_windows"):\n'
        "            self._windows = self.window_slices(out_height, out_width)\n"
        "        windows = self._windows",
        "on a new layer gives the expected output",
    ),
    Mutant(
        "mean squared error divides by the size of its first prediction",
        "softmax_cross_entropy",
        "return (2 * self.diff / self.diff.size).astype(self.dtype, copy=False)",
        'if not hasattr(self, "size"):\n'
        "            self.size = self.diff.size\n"
        "        return (2 * self.diff / self.size).astype(self.dtype, copy=False)",
        "of an earlier call (2)",
    ),
    Mutant(
        "mean squared error keeps the dtype of its first prediction",
        "softmax_cross_entropy",
        "self.dtype = prediction.dtype",
        'if not hasattr(self, "dtype"):\n            self.dtype = prediction.dtype',
        "a dtype kept from an earlier call",
    ),
    Mutant(
        "momentum buffers made at the first step, for its parameters only",
        "optim",
        "if name not in self.velocity:\n"
        "                    self.velocity[name] = np.zeros_like(param)",
        "if not self.velocity:\n"
        "                    self.velocity = {n: np.zeros_like(p) for n, p in params.items()}",
        "at its own first step",
    ),
    Mutant(
        "momentum of a parameter that sat out a step dropped",
        "optim",
        "update = g  # plain SGD keeps no state\n",
        "update = g  # plain SGD keeps no state\n"
        "            self.velocity = {n: v for n, v in self.velocity.items() if n in params}\n",
        "sat out a step",
    ),
    Mutant(
        "SGD keeps updating the params dict of its first step",
        "optim",
        "for name, param in params.items():\n"
        "            g = grads[name]  # read, never written\n"
        "            if self.weight_decay:  # g = grad + lambda p, in a scratch array\n"
        "                g = np.multiply(param, self.weight_decay, "
        'out=self.work("g", name, param))\n'
        "                g += grads[name]\n"
        "            update = g",
        'self.params = getattr(self, "params", params)\n'
        "        for name, param in self.params.items():\n"
        "            g = grads[name]  # read, never written\n"
        "            if self.weight_decay:  # g = grad + lambda p, in a scratch array\n"
        "                g = np.multiply(param, self.weight_decay, "
        'out=self.work("g", name, param))\n'
        "                g += grads[name]\n"
        "            update = g",
        "update the arrays of the dict given to this call",
    ),
    Mutant(
        "Sequential params built at the first access and kept",
        "network",
        "return {\n"
        '            f"{index}.{name}": array\n'
        "            for index, layer in enumerate(self.layers)\n"
        "            for name, array in layer.params.items()\n"
        "        }",
        'if not hasattr(self, "_first_params"):\n'
        "            self._first_params = {\n"
        '                f"{index}.{name}": array\n'
        "                for index, layer in enumerate(self.layers)\n"
        "                for name, array in layer.params.items()\n"
        "            }\n"
        "        return self._first_params",
        "built once",
    ),
    Mutant(
        "Sequential runs the layers it was built with",
        "network",
        "for layer in self.layers:\n            x = layer.forward(x)",
        'self._chain = getattr(self, "_chain", None) or tuple(self.layers)\n'
        "        for layer in self._chain:\n"
        "            x = layer.forward(x)",
        "run the layers of self.layers",
    ),
    Mutant(
        "Sequential eval does nothing when already in evaluation mode",
        "network",
        "super().eval()\n        for layer in self.layers:",
        "if not self.training:\n"
        "            return self\n"
        "        super().eval()\n"
        "        for layer in self.layers:",
        "already in that mode",
    ),
    Mutant(
        "Sequential eval flips the mode",
        "network",
        "super().eval()\n        for layer in self.layers:\n            layer.eval()",
        "super().eval() if self.training else super().train()\n"
        "        for layer in self.layers:\n"
        "            layer.train() if self.training else layer.eval()",
        "flips the mode",
    ),
    Mutant(
        "train_epoch reads model.params and model.grads once, before its loop",
        "training",
        "order = rng.permutation(len(x))\n"
        "    total_loss = 0.0\n"
        "    correct = 0\n"
        "    for start in range(0, len(x), batch_size):\n"
        "        batch = order[start : start + batch_size]\n"
        "        x_batch, y_batch = x[batch], y[batch]\n"
        "        out = model.forward(x_batch)\n"
        "        loss = loss_fn.forward(out, y_batch)\n"
        "        model.backward(loss_fn.backward())\n"
        "        optimizer.step(model.params, model.grads)",
        "order = rng.permutation(len(x))\n"
        "    params, grads = model.params, model.grads\n"
        "    total_loss = 0.0\n"
        "    correct = 0\n"
        "    for start in range(0, len(x), batch_size):\n"
        "        batch = order[start : start + batch_size]\n"
        "        x_batch, y_batch = x[batch], y[batch]\n"
        "        out = model.forward(x_batch)\n"
        "        loss = loss_fn.forward(out, y_batch)\n"
        "        model.backward(loss_fn.backward())\n"
        "        optimizer.step(params, grads)",
        "read once, before the loop",
    ),
    # Mistakes the judge names only when the numbers show them (issues 7.7 and 12.6).
    Mutant(
        "naive convolution assigns where windows overlap",
        "conv_naive",
        'dx_padded[:, :, rows, cols] += np.einsum("no,ochw->nchw", g, W)',
        'dx_padded[:, :, rows, cols] = np.einsum("no,ochw->nchw", g, W)',
        "read by several overlapping windows",
    ),
    Mutant(
        "naive convolution dW of the last sample only",
        "conv_naive",
        'dW += np.einsum("no,nchw->ochw", g, x_padded[:, :, rows, cols])',
        'dW += np.einsum("o,chw->ochw", g[-1], x_padded[-1, :, rows, cols])',
        "contribution of the last sample only",
    ),
    Mutant(
        "naive convolution db averaged over the output positions",
        "conv_naive",
        'self.grads["b"] = dout.sum(axis=(0, 2, 3))',
        'self.grads["b"] = dout.sum(axis=0).mean(axis=(1, 2))',
        "divided by OH*OW",
    ),
    Mutant(
        "convolution dW2 built transposed, then reshaped",
        "conv",
        "(self.cols @ dout2.T).T.reshape(W.shape)",
        "(self.cols @ dout2.T).reshape(W.shape)",
        "the transpose of W2's shape",
    ),
    Mutant(
        "convolution dout2 reshaped without moving the batch axis last",
        "conv",
        "dout2 = dout.transpose(1, 2, 3, 0).reshape(out_channels, -1)",
        "dout2 = dout.reshape(out_channels, -1)",
        "batch axis still first",
    ),
    # The batch-last layout of im2col (columns (i, j, n)) read batch axis first, (n, i, j).
    Mutant(
        "im2col columns in the order (n, i, j), the batch axis first",
        "conv",
        "return cols.reshape(channels * kh * kw, out_height * out_width * n)",
        "return cols.transpose(0, 1, 2, 5, 3, 4).reshape(channels * kh * kw, -1)",
        "the columns are in the order (n, i, j), the batch axis first",
    ),
    Mutant(
        "col2im reads the columns in the order (n, i, j)",
        "conv",
        "cols6 = cols.reshape(channels, kh, kw, out_height, out_width, n)",
        "cols6 = cols.reshape(channels, kh, kw, n, out_height, out_width)\n"
        "    cols6 = cols6.transpose(0, 1, 2, 4, 5, 3)",
        "cols read with its columns in the order (n, i, j)",
    ),
    Mutant(
        "col2im returns its buffer with the batch axis still last",
        "conv",
        "    return dx.transpose(3, 0, 1, 2)  # (N, C, H, W), batch-last in memory",
        "    return dx",
        "its batch axis is not brought back",
    ),
    Mutant(
        "convolution output reshaped straight to (N, O, OH, OW)",
        "conv",
        "return out.reshape(out_channels, out_height, out_width, n).transpose(3, 0, 1, 2)",
        "return out.reshape(n, out_channels, out_height, out_width)",
        "where it must be read as (O, OH, OW, N)",
    ),
    Mutant(
        "convolution output read batch axis first, (O, N, OH, OW)",
        "conv",
        "return out.reshape(out_channels, out_height, out_width, n).transpose(3, 0, 1, 2)",
        "return out.reshape(out_channels, n, out_height, out_width).transpose(1, 0, 2, 3)",
        "the product's columns read",
    ),
    Mutant(
        "convolution dout2 with the batch axis before the positions",
        "conv",
        "dout2 = dout.transpose(1, 2, 3, 0).reshape(out_channels, -1)",
        "dout2 = dout.transpose(1, 0, 2, 3).reshape(out_channels, -1)",
        "its columns in the order (n, i, j), where cols has",
    ),
    Mutant(
        "Tanh keeps the output of its first forward",
        "activations",
        "        self.out = np.tanh(x)",
        '        if not hasattr(self, "out"):\n'
        "            self.out = np.tanh(x)\n"
        "        out = np.tanh(x)\n"
        "        return out",
        "backward used what the first forward kept",
    ),
    Mutant(
        "Nesterov looks ahead along the velocity of the step before",
        "optim",
        "velocity *= self.momentum\n"
        "                velocity += g\n"
        "                update = velocity\n"
        "                if self.nesterov:  # u = g + mu v\n"
        "                    update = np.multiply(velocity, self.momentum, "
        'out=self.work("u", name, param))\n'
        "                    update += g\n",
        "lookahead = g + self.momentum * velocity\n"
        "                velocity *= self.momentum\n"
        "                velocity += g\n"
        "                update = lookahead if self.nesterov else velocity\n",
        "w follows plain momentum at every step",
    ),
    Mutant(
        "mean squared error gradient divided by the rows, not the elements",
        "softmax_cross_entropy",
        "return (2 * self.diff / self.diff.size)",
        "return (2 * self.diff / len(self.diff))",
        "not by M =",
    ),
    Mutant(
        "numerical gradient undoes its steps with arithmetic",
        "numerical_gradient",
        "x[i] = old + h\n"
        "        f_plus = float(f(x))\n"
        "        x[i] = old - h\n"
        "        f_minus = float(f(x))\n"
        "        x[i] = old",
        "x[i] += h\n"
        "        f_plus = float(f(x))\n"
        "        x[i] -= 2 * h\n"
        "        f_minus = float(f(x))\n"
        "        x[i] += h",
        "changed by rounding only",
    ),
    Mutant(
        "training steps the optimizer before the backward pass",
        "training",
        "model.backward(loss_fn.backward())\n        optimizer.step(model.params, model.grads)",
        "optimizer.step(model.params, model.grads)\n        model.backward(loss_fn.backward())",
        "called before loss_fn.backward",
    ),
    Mutant(
        "training loss as the plain mean of the batch losses",
        "training",
        "total_loss += loss * len(batch)",
        "total_loss += loss * len(x) / -(-len(x) // batch_size)",
        "a mean over batches, not over examples",
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


def assert_graded_and_named(mutant: Mutant, tmp_path: Path) -> None:
    """Grade a copy of the reference with ``mutant`` planted: not done, and the report names
    the mistake."""
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


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda mutant: mutant.name)
def test_grader_reports_planted_mistake(mutant: Mutant, tmp_path: Path) -> None:
    assert_graded_and_named(mutant, tmp_path)


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
