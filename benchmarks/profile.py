"""Where the time of one training step goes: per layer and per operation.

::

    python -m benchmarks.profile [--networks mlp lenet5] [--repeats 200] [--batch-size N]
                                 [--no-torch] [--clock cpu|wall]

For each network (the recipes of ``reference.models``, random data of MNIST's shape, as in
``benchmarks.bench``) a *round* runs one training step of the reference with a clock around
every part of it (each layer's forward, the loss, each layer's backward, the optimizer step),
then the parts of those parts again on the same arrays (im2col, the matrix products, col2im),
then one whole step without the inner clocks and, when PyTorch can be imported, one step of
its twin (``benchmarks.bench.torch_step``). Rounds repeat ``--repeats`` times, so a load that
comes and goes on a shared machine hits every row alike; each row is the **median** over the
rounds, in milliseconds, and its share of the reference's whole step. The ratio of the two
whole steps measured in the same rounds is printed last.

The clock is the **CPU time** of the process by default (``time.process_time``): on a machine
shared with other busy processes, wall time counts the milliseconds this process waited for a
core, and those land on whichever part was running when the scheduler took the core away (the
same parts round after round, since every round has the same rhythm). CPU time counts only the
work; ``--clock wall`` gives wall time, the right clock on a quiet machine.

The inner rows (indented, ``:``) are measured apart from the step, on the arrays the step
kept: they say how a layer's time splits, and they add up to about their layer's row.

One thread everywhere (the variables below are set before numpy is imported, and PyTorch runs
with ``torch.set_num_threads(1)``): the profile compares code, not cores.
"""

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")  # before numpy starts its BLAS threads

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from benchmarks.bench import reference_step, torch_status, torch_step  # noqa: E402
from reference.conv import Conv2d, col2im, im2col  # noqa: E402
from reference.linear import Linear  # noqa: E402
from reference.losses import SoftmaxCrossEntropy  # noqa: E402
from reference.models import NETWORKS, Recipe  # noqa: E402
from toolkit.layer import Layer  # noqa: E402

WARMUP_ROUNDS = 5


CLOCKS: dict[str, Callable[[], float]] = {"cpu": time.process_time, "wall": time.perf_counter}


class Clock:
    """Medians of named durations, collected round after round (names keep their first order).

    Args:
        now: the clock read before and after each call, in seconds (``CLOCKS``).
    """

    def __init__(self, now: Callable[[], float] = time.process_time) -> None:
        self.now = now
        self.samples: dict[str, list[float]] = {}

    def time(self, name: str, function: Callable[..., Any], *args: Any) -> Any:
        """Call ``function(*args)``, add its duration to ``name``'s samples, return its result."""
        start = self.now()
        result = function(*args)
        self.samples.setdefault(name, []).append(self.now() - start)
        return result

    def median_ms(self, name: str) -> float:
        return 1e3 * statistics.median(self.samples[name])


def inner_parts(clock: Clock, prefix: str, layer: Layer, x: np.ndarray, dout: np.ndarray) -> None:
    """Time the parts of a layer's forward and backward again, on the arrays of the step.

    The parts of the input gradient (``dcols``, ``col2im``, ``dx =``) are timed only where the
    step computes them: not for the first layer, whose ``needs_input_grad`` is False.
    """
    if isinstance(layer, Conv2d):
        kh, kw = layer.kernel_size
        w2 = layer.params["W"].reshape(layer.out_channels, -1)
        cols = clock.time(f"{prefix}: im2col", im2col, x, kh, kw, layer.stride, layer.padding)
        clock.time(f"{prefix}: W2 @ cols", np.matmul, w2, cols)
        dout2 = clock.time(
            f"{prefix}: dout to (O, OH*OW*N)",
            lambda: dout.transpose(1, 2, 3, 0).reshape(w2.shape[0], -1),
        )
        clock.time(f"{prefix}: dW = (cols @ dout2.T).T", lambda: (cols @ dout2.T).T)
        if layer.needs_input_grad:
            dcols = clock.time(f"{prefix}: dcols = W2.T @ dout2", np.matmul, w2.T, dout2)
            clock.time(
                f"{prefix}: col2im",
                col2im,
                dcols,
                x.shape,
                kh,
                kw,
                layer.stride,
                layer.padding,
            )
    elif isinstance(layer, Linear):
        w = layer.params["W"]
        clock.time(f"{prefix}: x @ W", np.matmul, x, w)
        clock.time(f"{prefix}: dW = x.T @ dout", np.matmul, x.T, dout)
        if layer.needs_input_grad:
            clock.time(f"{prefix}: dx = dout @ W.T", np.matmul, dout, w.T)


def profile_round(clock: Clock, recipe: Recipe, x: np.ndarray, y: np.ndarray) -> None:
    """One step of ``recipe`` on ``(x, y)``, every part on its own clock, then the parts inside."""
    layers = list(recipe.model)
    names = [f"{index} {layer!r}" for index, layer in enumerate(layers)]
    loss_fn = SoftmaxCrossEntropy()
    inputs = []
    h = x
    for name, layer in zip(names, layers, strict=True):
        inputs.append(h)
        h = clock.time(f"{name} forward", layer.forward, h)
    clock.time("loss forward", loss_fn.forward, h, y)
    dout = clock.time("loss backward", loss_fn.backward)
    douts = []
    for name, layer in zip(reversed(names), reversed(layers), strict=True):
        douts.append(dout)
        dout = clock.time(f"{name} backward", layer.backward, dout)
    douts.reverse()
    params, grads = recipe.model.params, recipe.model.grads
    clock.time("optimizer step", recipe.optimizer.step, params, grads)
    for name, layer, layer_input, layer_dout in zip(names, layers, inputs, douts, strict=True):
        inner_parts(clock, f"  {name}", layer, layer_input, layer_dout)


def profile(
    network: str,
    *,
    repeats: int,
    batch_size: int | None,
    with_torch: bool,
    clock: Clock | None = None,
) -> tuple[Clock, list[str]]:
    """Run ``repeats`` profiled rounds of ``network``; the clock and the rows to print, in order."""
    rng = np.random.default_rng(0)
    recipe = NETWORKS[network](rng)
    recipe.model.set_needs_input_grad(False)  # as in training: the input is the data
    batch_size = batch_size or recipe.batch_size
    x = rng.standard_normal((batch_size, *recipe.input_shape), dtype=np.float32)
    y = rng.integers(0, 10, size=batch_size, dtype=np.int64)
    whole = reference_step(NETWORKS[network](np.random.default_rng(0)))
    twin = torch_step(NETWORKS[network](np.random.default_rng(0))) if with_torch else None
    warmup = Clock()
    for _ in range(WARMUP_ROUNDS):
        profile_round(warmup, recipe, x, y)
        whole(x, y)
        if twin is not None:
            twin(x, y)
    clock = Clock() if clock is None else clock
    for _ in range(repeats):
        profile_round(clock, recipe, x, y)
        clock.time("whole step (reference)", whole, x, y)
        if twin is not None:
            clock.time("whole step (PyTorch)", twin, x, y)
    return clock, list(clock.samples)


def table(network: str, batch_size: int, clock: Clock, rows: Sequence[str]) -> str:
    """The profile as a Markdown table: median ms and share of the reference's whole step."""
    step = clock.median_ms("whole step (reference)")
    outer = [name for name in rows if not name.startswith(" ") and not name.startswith("whole")]
    lines = [
        f"### {network}, batch {batch_size}",
        "",
        "| part | median ms | of the step |",
        "| --- | ---: | ---: |",
    ]
    for name in rows:
        milliseconds = clock.median_ms(name)
        lines.append(f"| {name} | {milliseconds:.3f} | {100 * milliseconds / step:.0f} % |")
    parts = sum(clock.median_ms(name) for name in outer)
    lines.append(f"| sum of the parts | {parts:.3f} | {100 * parts / step:.0f} % |")
    if "whole step (PyTorch)" in clock.samples:
        ratios = [
            ours / theirs
            for ours, theirs in zip(
                clock.samples["whole step (reference)"],
                clock.samples["whole step (PyTorch)"],
                strict=True,
            )
        ]
        lines.append("")
        lines.append(
            f"reference / PyTorch step time, round by round: median "
            f"{statistics.median(ratios):.2f}x, quartiles "
            f"{np.percentile(ratios, 25):.2f}-{np.percentile(ratios, 75):.2f}x"
        )
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.profile",
        description="Per-layer, per-operation profile of one training step of the reference.",
    )
    parser.add_argument(
        "--networks", nargs="+", choices=sorted(NETWORKS), default=["mlp", "lenet5"]
    )
    parser.add_argument("--repeats", type=_positive_int, default=200, help="rounds (200)")
    parser.add_argument("--batch-size", type=_positive_int, help="default: the recipe's")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch's whole step")
    parser.add_argument(
        "--clock", choices=sorted(CLOCKS), default="cpu", help="CPU time (default) or wall time"
    )
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    with_torch = not args.no_torch and torch_status() is None
    print(
        f"profile: numpy {np.__version__}, OPENBLAS_NUM_THREADS="
        f"{os.environ['OPENBLAS_NUM_THREADS']}, {args.repeats} rounds, medians of "
        f"{'CPU' if args.clock == 'cpu' else 'wall'} time; PyTorch "
        f"{'included' if with_torch else 'skipped'}",
        flush=True,
    )
    for network in args.networks:
        clock, rows = profile(
            network,
            repeats=args.repeats,
            batch_size=args.batch_size,
            with_torch=with_torch,
            clock=Clock(CLOCKS[args.clock]),
        )
        batch_size = args.batch_size or NETWORKS[network](np.random.default_rng(0)).batch_size
        print()
        print(table(network, batch_size, clock, rows), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
