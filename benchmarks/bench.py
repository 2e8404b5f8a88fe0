"""Training throughput of the reference networks, and of the same networks in PyTorch.

::

    python -m benchmarks.bench [--networks mlp lenet5] [--repeats 5] [--batches 50]
                               [--batch-size N] [--no-torch]

What is measured, for each network (the recipes of ``reference.models``: the MLP and
LeNet-5) and each framework (the numpy reference; PyTorch when ``import torch`` works, with a
twin translated layer by layer from the reference model):

- **throughput**: training steps (forward, softmax cross-entropy, backward, optimizer step) on
  ``--batches`` mini-batches of the recipe's size, timed ``--repeats`` times after a few
  warm-up steps; the median of the repeats, in examples per second. The batches are **random
  data of MNIST's shape** (float32 standard-normal images, uniform labels 0..9), generated
  before the timing: the arithmetic is the same as on real images and the data need not be
  downloaded.
- **epoch time**: 50,000 training examples divided by that throughput (extrapolated).
- **peak memory**: how much the training steps raised the peak resident memory of the process
  (``resource.getrusage(...).ru_maxrss`` after the steps minus its value once the model and the
  batches are built). Every measurement runs in a fresh interpreter so the peaks do not mix.
- **ratio**: reference time / PyTorch time for the same network, batch size and optimizer
  (PyTorch's default initialization: it does not change the speed).

One thread everywhere: ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` and ``MKL_NUM_THREADS``
default to 1 (set before numpy is imported; ``nox -s bench`` sets them too) and PyTorch runs
with ``torch.set_num_threads(1)``, so the numbers compare the code, not the cores.
"""

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")  # before numpy starts its BLAS threads

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from reference.activations import ReLU  # noqa: E402
from reference.conv import Conv2d  # noqa: E402
from reference.linear import Linear  # noqa: E402
from reference.losses import SoftmaxCrossEntropy  # noqa: E402
from reference.models import NETWORKS, Recipe  # noqa: E402
from reference.network import Sequential  # noqa: E402
from reference.optim import SGD, Adam  # noqa: E402
from reference.pool import Flatten, MaxPool2d  # noqa: E402

EPOCH_EXAMPLES = 50_000
WARMUP_STEPS = 3
FRAMEWORKS = ("reference", "torch")

Step = Callable[[np.ndarray, np.ndarray], None]


def reference_step(recipe: Recipe) -> Step:
    """One training step of the numpy reference on a batch."""
    loss_fn = SoftmaxCrossEntropy()

    def step(x: np.ndarray, y: np.ndarray) -> None:
        logits = recipe.model.forward(x)
        loss_fn.forward(logits, y)
        recipe.model.backward(loss_fn.backward())
        recipe.optimizer.step(recipe.model.params, recipe.model.grads)

    return step


def torch_step(recipe: Recipe) -> Step:
    """The same network, loss and optimizer in PyTorch, on one thread."""
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = torch_model(torch.nn, recipe.model)
    optimizer = torch_optimizer(torch.optim, recipe.optimizer, model.parameters())
    loss_fn = torch.nn.CrossEntropyLoss()

    def step(x: np.ndarray, y: np.ndarray) -> None:
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(torch.from_numpy(x)), torch.from_numpy(y))
        loss.backward()
        optimizer.step()

    return step


def torch_model(nn: Any, model: Sequential) -> Any:
    """The PyTorch twin of a reference model, translated layer by layer (same sizes)."""
    twins = []
    for layer in model:
        if isinstance(layer, Linear):
            twins.append(nn.Linear(layer.in_features, layer.out_features))
        elif isinstance(layer, Conv2d):
            twins.append(
                nn.Conv2d(
                    layer.in_channels,
                    layer.out_channels,
                    layer.kernel_size,
                    stride=layer.stride,
                    padding=layer.padding,
                )
            )
        elif isinstance(layer, MaxPool2d):
            twins.append(nn.MaxPool2d(layer.kernel_size, layer.stride))
        elif isinstance(layer, ReLU):
            twins.append(nn.ReLU())
        elif isinstance(layer, Flatten):
            twins.append(nn.Flatten())
        else:
            raise TypeError(f"no PyTorch twin for the layer {layer!r}")
    return nn.Sequential(*twins)


def torch_optimizer(optim: Any, optimizer: SGD | Adam, parameters: Any) -> Any:
    """The PyTorch optimizer with the reference optimizer's settings."""
    if isinstance(optimizer, Adam):
        return optim.Adam(
            parameters,
            lr=optimizer.lr,
            betas=(optimizer.beta1, optimizer.beta2),
            eps=optimizer.eps,
            weight_decay=optimizer.weight_decay,
        )
    return optim.SGD(
        parameters,
        lr=optimizer.lr,
        momentum=optimizer.momentum,
        nesterov=optimizer.nesterov,
        weight_decay=optimizer.weight_decay,
    )


def framework_version(framework: str) -> str:
    if framework == "torch":
        import torch

        return f"torch {torch.__version__}"
    return f"numpy {np.__version__}"


def peak_rss_bytes() -> int:
    """The peak resident memory of this process so far (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def measure(
    framework: str, network: str, *, batches: int, repeats: int, batch_size: int | None
) -> dict[str, Any]:
    """Time ``repeats`` runs of ``batches`` training steps in this process; a dict of results."""
    rng = np.random.default_rng(0)
    recipe = NETWORKS[network](rng)
    batch_size = batch_size or recipe.batch_size
    images = rng.standard_normal((batches, batch_size, *recipe.input_shape), dtype=np.float32)
    labels = rng.integers(0, 10, size=(batches, batch_size), dtype=np.int64)
    step = reference_step(recipe) if framework == "reference" else torch_step(recipe)
    rss_before = peak_rss_bytes()
    for index in range(WARMUP_STEPS):
        step(images[index % batches], labels[index % batches])
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        for x, y in zip(images, labels, strict=True):
            step(x, y)
        seconds.append(time.perf_counter() - start)
    throughput = batches * batch_size / statistics.median(seconds)
    return {
        "network": network,
        "framework": framework,
        "version": framework_version(framework),
        "batch_size": batch_size,
        "examples_per_second": throughput,
        "epoch_seconds": EPOCH_EXAMPLES / throughput,
        "peak_memory_mib": (peak_rss_bytes() - rss_before) / 2**20,
        "repeat_seconds": seconds,
    }


def measure_in_child(framework: str, network: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run ``measure`` in a fresh interpreter (clean peak memory); its JSON result, or an error."""
    command = [
        sys.executable,
        "-m",
        "benchmarks.bench",
        "--child",
        framework,
        network,
        "--batches",
        str(args.batches),
        "--repeats",
        str(args.repeats),
    ]
    if args.batch_size:
        command += ["--batch-size", str(args.batch_size)]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        last_line = (completed.stderr.strip().splitlines() or ["no output"])[-1]
        return {"network": network, "framework": framework, "error": last_line}
    return json.loads(completed.stdout.strip().splitlines()[-1])


def torch_status() -> str | None:
    """None when PyTorch can be imported, otherwise why not."""
    if importlib.util.find_spec("torch") is None:
        return "not installed (pip install torch)"
    return None


def describe(result: dict[str, Any]) -> str:
    if "error" in result:
        return f"{result['network']:<13} {result['framework']:<9} failed: {result['error']}"
    return (
        f"{result['network']:<13} {result['version']:<20} batch {result['batch_size']:>4}  "
        f"{result['examples_per_second']:>9,.0f} ex/s  epoch {result['epoch_seconds']:>7.1f} s  "
        f"peak +{result['peak_memory_mib']:.1f} MiB"
    )


def table(results: Sequence[dict[str, Any]]) -> str:
    """The summary: one row per network and framework, with the reference/torch time ratio."""
    rows = [
        "| network | framework | batch | examples/s | epoch (50k) | peak memory | ref / torch |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    by_key = {(r["network"], r["framework"]): r for r in results if "error" not in r}
    for result in results:
        if "error" in result:
            rows.append(
                f"| {result['network']} | {result['framework']} | failed: "
                f"{result['error']} | | | | |"
            )
            continue
        torch_result = by_key.get((result["network"], "torch"))
        ratio = ""
        if result["framework"] == "reference" and torch_result:
            ratio = f"{torch_result['examples_per_second'] / result['examples_per_second']:.1f}x"
        rows.append(
            f"| {result['network']} | {result['framework']} | {result['batch_size']} | "
            f"{result['examples_per_second']:,.0f} | {result['epoch_seconds']:.1f} s | "
            f"+{result['peak_memory_mib']:.1f} MiB | {ratio} |"
        )
    return "\n".join(rows)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench",
        description="Training throughput of the reference networks (and PyTorch's, if present).",
    )
    parser.add_argument(
        "--networks", nargs="+", choices=sorted(NETWORKS), default=["mlp", "lenet5"]
    )
    parser.add_argument("--repeats", type=_positive_int, default=5, help="timed runs (5)")
    parser.add_argument("--batches", type=_positive_int, default=50, help="batches per run (50)")
    parser.add_argument("--batch-size", type=_positive_int, help="default: the recipe's")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch")
    parser.add_argument(
        "--child", nargs=2, metavar=("FRAMEWORK", "NETWORK"), help=argparse.SUPPRESS
    )
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.child:
        framework, network = args.child
        result = measure(
            framework,
            network,
            batches=args.batches,
            repeats=args.repeats,
            batch_size=args.batch_size,
        )
        print(json.dumps(result))
        return 0
    frameworks = ["reference"]
    missing_torch = "--no-torch" if args.no_torch else torch_status()
    if missing_torch is None:
        frameworks.append("torch")
    print(
        f"benchmark: {platform.python_implementation()} {platform.python_version()}, numpy "
        f"{np.__version__}, {os.cpu_count()} CPU(s), OPENBLAS_NUM_THREADS="
        f"{os.environ['OPENBLAS_NUM_THREADS']}, PyTorch: "
        f"{'included' if missing_torch is None else 'skipped (' + missing_torch + ')'}\n"
        f"data: random float32 images of MNIST's shape and random labels; median of "
        f"{args.repeats} runs of {args.batches} training steps after {WARMUP_STEPS} warm-up "
        f"steps; peak memory = rise of ru_maxrss during the steps, fresh process each",
        flush=True,
    )
    results = []
    for network in args.networks:
        for framework in frameworks:
            result = measure_in_child(framework, network, args)
            print(describe(result), flush=True)
            results.append(result)
    print()
    print(table(results))
    return 0 if all("error" not in result for result in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
