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
  (PyTorch's default initialization: it does not change the speed). The two sides take turns:
  each of ``--repeats`` rounds measures the reference, then PyTorch, each in a fresh
  interpreter, so a load that comes and goes on a shared machine hits both; the ratio printed
  is the median of the rounds' ratios, with its range over the rounds.
- **CPU-time ratio**: the same ratio on the CPU time of the steps (``time.process_time``, one
  thread each side) instead of their wall time. On a machine shared with other busy processes,
  wall time also counts the time a process waited for a core; CPU time counts the work alone,
  so its ratio is what a quiet machine would show (up to the caches the neighbours share).
- **FLOPs of a step**: the multiply-adds of the matrix products a step needs (forward, the
  weight gradients, the input gradients of every layer but the first: PyTorch computes no
  gradient for the data), counted from the layer shapes, times two; elementwise work is left
  out (it is memory-bound, not arithmetic). Divided by the step time it gives GFLOP/s, and
  divided by **one core's peak**, measured in the same run as the GFLOP/s of a large float32
  matrix product (``BLAS_PEAK_SIZE``), the fraction of the physical limit reached.
- **products alone / torch time**: how long numpy takes for the step's matrix products alone
  (the same shapes, on operands allocated beforehand, nothing else), measured in the
  reference's process of each round, divided by PyTorch's step time of that round. It is the
  floor of the ratio for a numpy step with these products: the elementwise passes (the
  activations, the loss, the optimizer's update) and the copies of im2col come on top, and
  numpy has no fused operation to hide them in.

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
BLAS_PEAK_SIZE = 1024  # the float32 matrix product (n x n by n x n) that measures one core's peak
FRAMEWORKS = ("reference", "torch")

Step = Callable[[np.ndarray, np.ndarray], None]


def reference_step(recipe: Recipe) -> Step:
    """One training step of the numpy reference on a batch, as ``fit_epoch`` trains: the first
    layer computes no input gradient (the input is the data; PyTorch computes none either)."""
    loss_fn = SoftmaxCrossEntropy()
    recipe.model.set_needs_input_grad(False)

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


def step_products(recipe: Recipe, batch_size: int) -> list[tuple[int, int, int]]:
    """The matrix products of one training step, each as ``(m, k, n)``: an ``(m, k) @ (k, n)``.

    A ``Linear(D, M)`` on ``N`` examples multiplies ``(N, D) @ (D, M)`` forward, ``(D, N) @
    (N, M)`` for its weight gradient and, unless it is the first layer (PyTorch computes no
    gradient for the data either), ``(N, M) @ (M, D)`` for its input gradient. A convolution
    is the same three products on its im2col matrix, in the reference's layout: ``W2 @ cols``
    is ``(O, C kh kw) @ (C kh kw, P)``, with ``P`` the output positions of the whole batch, its
    weight gradient ``(cols @ dout2.T).T`` is ``(C kh kw, P) @ (P, O)``, and ``W2.T @ dout2``
    is ``(C kh kw, O) @ (O, P)``.
    """
    products = []
    x = np.zeros((batch_size, *recipe.input_shape), dtype=np.float32)
    for index, layer in enumerate(recipe.model):
        out = layer.forward(x)
        weights = layer.params.get("W")
        if weights is not None:
            rows = out.size // out.shape[1]  # examples, or output positions of a convolution
            outputs, inputs = out.shape[1], weights.size // out.shape[1]
            if isinstance(layer, Linear):
                products += [(rows, inputs, outputs), (inputs, rows, outputs)]
                products += [(rows, outputs, inputs)] if index else []
            else:
                products += [(outputs, inputs, rows), (inputs, rows, outputs)]
                products += [(inputs, outputs, rows)] if index else []
        x = out
    return products


def flops_of(products: Sequence[tuple[int, int, int]]) -> int:
    """The floating-point operations of these matrix products: ``2 m k n`` each."""
    return sum(2 * m * k * n for m, k, n in products)


def step_flops(recipe: Recipe, batch_size: int) -> int:
    """The floating-point operations of the matrix products of one training step."""
    return flops_of(step_products(recipe, batch_size))


def products_seconds(products: Sequence[tuple[int, int, int]], repeats: int = 20) -> float:
    """How long numpy takes for these matrix products alone, once each: a floor for a step.

    The products run on contiguous float32 operands allocated beforehand, into outputs
    allocated beforehand (``out=``), so nothing but BLAS is timed; the median of ``repeats``
    after one warm-up. Whatever else a step does (the elementwise passes of activations, loss
    and optimizer, the copies of im2col) comes on top of this time.
    """
    rng = np.random.default_rng(0)
    operands = [
        (
            rng.standard_normal((m, k), dtype=np.float32),
            rng.standard_normal((k, n), dtype=np.float32),
            np.empty((m, n), dtype=np.float32),
        )
        for m, k, n in products
    ]

    def run() -> None:
        for a, b, out in operands:
            np.matmul(a, b, out=out)

    run()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def core_peak_flops(size: int = BLAS_PEAK_SIZE, repeats: int = 20) -> float:
    """One core's float32 FLOP/s as BLAS reaches it on a large square matrix product: the
    fastest of ``repeats`` (on a shared machine a few of them are slowed by the neighbours)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    out = np.empty_like(a)
    np.matmul(a, b, out=out)  # warm up
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        np.matmul(a, b, out=out)
        seconds.append(time.perf_counter() - start)
    return 2 * size**3 / min(seconds)


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
    seconds, cpu_seconds = [], []
    for _ in range(repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        for x, y in zip(images, labels, strict=True):
            step(x, y)
        seconds.append(time.perf_counter() - start)
        cpu_seconds.append(time.process_time() - cpu_start)
    throughput = batches * batch_size / statistics.median(seconds)
    peak_memory = peak_rss_bytes() - rss_before  # before the products below allocate theirs
    products = step_products(NETWORKS[network](np.random.default_rng(0)), batch_size)
    flops = flops_of(products)
    return {
        "step_flops": flops,
        # numpy's time for the step's matrix products alone (the floor of a numpy step)
        "products_seconds": products_seconds(products) if framework == "reference" else None,
        "gflops_per_second": flops * batches / statistics.median(seconds) / 1e9,
        "network": network,
        "framework": framework,
        "version": framework_version(framework),
        "batch_size": batch_size,
        "examples_per_second": throughput,
        "epoch_seconds": EPOCH_EXAMPLES / throughput,
        "peak_memory_mib": peak_memory / 2**20,
        "repeat_seconds": seconds,
        "cpu_step_seconds": statistics.median(cpu_seconds) / batches,
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
        "1",
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


def summarize(rounds: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The median of one network and framework's rounds (each round one fresh process)."""
    first = rounds[0]
    throughputs = [r["examples_per_second"] for r in rounds]
    summary = dict(first)
    summary["examples_per_second"] = statistics.median(throughputs)
    summary["epoch_seconds"] = EPOCH_EXAMPLES / summary["examples_per_second"]
    summary["gflops_per_second"] = statistics.median(r["gflops_per_second"] for r in rounds)
    summary["peak_memory_mib"] = max(r["peak_memory_mib"] for r in rounds)
    return summary


def ratios(
    reference_rounds: Sequence[dict[str, Any]], torch_rounds: Sequence[dict[str, Any]]
) -> list[float]:
    """Reference time / PyTorch time, round by round (the two measured back to back)."""
    return [
        t["examples_per_second"] / r["examples_per_second"]
        for r, t in zip(reference_rounds, torch_rounds, strict=True)
    ]


def cpu_ratios(
    reference_rounds: Sequence[dict[str, Any]], torch_rounds: Sequence[dict[str, Any]]
) -> list[float]:
    """Reference CPU time / PyTorch CPU time per step, round by round."""
    return [
        r["cpu_step_seconds"] / t["cpu_step_seconds"]
        for r, t in zip(reference_rounds, torch_rounds, strict=True)
    ]


def products_ratios(
    reference_rounds: Sequence[dict[str, Any]], torch_rounds: Sequence[dict[str, Any]]
) -> list[float]:
    """numpy's matrix products alone / PyTorch's whole step, round by round: the lowest ratio
    a numpy step could reach if nothing but its matrix products took time."""
    return [
        r["products_seconds"] * t["examples_per_second"] / t["batch_size"]
        for r, t in zip(reference_rounds, torch_rounds, strict=True)
    ]


def _spread(each: Sequence[float]) -> str:
    return f"{statistics.median(each):.2f}x ({min(each):.2f}-{max(each):.2f})"


def table(results: dict[tuple[str, str], list[dict[str, Any]]], peak_flops: float) -> str:
    """The summary: one row per network and framework, with the reference/torch time ratio
    (median and range over the rounds), of wall time and of CPU time, the FLOPs of a step and
    the fraction of one core's peak."""
    rows = [
        "| network | framework | batch | examples/s | epoch (50k) | peak memory | GFLOP/step "
        "| GFLOP/s | of peak | ref / torch time | ref / torch CPU time "
        "| products alone / torch time |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for (network, framework), rounds in results.items():
        failed = [r for r in rounds if "error" in r]
        if failed:
            rows.append(f"| {network} | {framework} | failed: {failed[0]['error']} |" + " |" * 9)
            continue
        result = summarize(rounds)
        ratio = cpu_ratio = floor = ""
        torch_rounds = results.get((network, "torch"), [])
        torch_ok = bool(torch_rounds) and all("error" not in r for r in torch_rounds)
        if framework == "reference" and torch_ok:
            ratio = _spread(ratios(rounds, torch_rounds))
            cpu_ratio = _spread(cpu_ratios(rounds, torch_rounds))
            floor = _spread(products_ratios(rounds, torch_rounds))
        rows.append(
            f"| {network} | {result['version']} | {result['batch_size']} | "
            f"{result['examples_per_second']:,.0f} | {result['epoch_seconds']:.1f} s | "
            f"+{result['peak_memory_mib']:.1f} MiB | {result['step_flops'] / 1e9:.3f} | "
            f"{result['gflops_per_second']:.1f} | "
            f"{100 * result['gflops_per_second'] * 1e9 / peak_flops:.0f} % | {ratio} | "
            f"{cpu_ratio} | {floor} |"
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
    parser.add_argument(
        "--repeats", type=_positive_int, default=5, help="rounds, the sides taking turns (5)"
    )
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
        f"data: random float32 images of MNIST's shape and random labels; each round runs "
        f"{args.batches} training steps after {WARMUP_STEPS} warm-up steps in a fresh process; "
        f"medians over {args.repeats} rounds; peak memory = rise of ru_maxrss during the steps",
        flush=True,
    )
    peak = core_peak_flops()
    print(
        f"one core's peak: {peak / 1e9:.1f} GFLOP/s (float32 {BLAS_PEAK_SIZE}x{BLAS_PEAK_SIZE} "
        f"matrix product); the sides take turns, {args.repeats} rounds",
        flush=True,
    )
    results: dict[tuple[str, str], list[dict[str, Any]]] = {
        (network, framework): [] for network in args.networks for framework in frameworks
    }
    for round_index in range(args.repeats):
        for network in args.networks:
            for framework in frameworks:
                result = measure_in_child(framework, network, args)
                print(f"round {round_index + 1}: {describe(result)}", flush=True)
                results[network, framework].append(result)
    print()
    print(table(results, peak))
    every = [result for rounds in results.values() for result in rounds]
    return 0 if all("error" not in result for result in every) else 1


if __name__ == "__main__":
    raise SystemExit(main())
