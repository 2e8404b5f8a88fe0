"""Train a network of ``reference.models`` on MNIST from the command line.

::

    python -m toolkit.train mlp                       # the recipe as written in models.py
    python -m toolkit.train lenet5 --epochs 10 --save lenet5.npz --plot lenet5.png
    python -m toolkit.train lenet5 --load lenet5.npz --evaluate-only

Each epoch shows a progress bar (batches done, running loss, examples per second) on stderr,
then prints the training and validation loss and accuracy on stdout; the
end prints the test accuracy, the total time and the throughput. The same ``--seed`` gives the
same numbers: the seed draws the initial weights and, independently, the order of the
mini-batches. Only the times (in square brackets) change from one run to the next.

Data: the training split (50,000 images), the validation split (the last 10,000 of the 60,000
training images) after every epoch, the test set (10,000) at the end. ``--data-dir`` names a
folder with the four IDX files; otherwise ``toolkit.data`` finds MNIST (cache, mirrors, the
package index).

This module is infrastructure: it is given, not an exercise.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple, TextIO

import numpy as np

from reference.losses import SoftmaxCrossEntropy
from reference.models import NETWORKS, Recipe, fit_epoch
from reference.training import Metrics, evaluate
from toolkit import data as mnist_data
from toolkit.plots import plot_curves, require_matplotlib
from toolkit.progress import ProgressBar
from toolkit.weights import load_params, save_params

EVALUATION_BATCH_SIZE = 1000


class EpochResult(NamedTuple):
    """What one epoch measured."""

    epoch: int
    train: Metrics
    validation: Metrics
    seconds: float


class Outcome(NamedTuple):
    """What a run measured: one entry per epoch (none with ``--evaluate-only``), then the test."""

    epochs: list[EpochResult]
    test: Metrics
    seconds: float


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1 (argparse names the option in its error message)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m toolkit.train",
        description="Train a network of reference.models on MNIST and report its accuracy.",
    )
    parser.add_argument("network", choices=sorted(NETWORKS), help="which network to train")
    parser.add_argument(
        "--epochs", type=positive_int, help="passes over the training set (default: the recipe's)"
    )
    parser.add_argument(
        "--batch-size", type=positive_int, help="mini-batch size (default: the recipe's)"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the initial weights and batch order (0)"
    )
    parser.add_argument("--save", metavar="FILE.npz", help="save the trained weights here")
    parser.add_argument("--plot", metavar="FILE.png", help="plot loss and accuracy per epoch")
    parser.add_argument("--load", metavar="FILE.npz", help="start from these saved weights")
    parser.add_argument(
        "--evaluate-only", action="store_true", help="with --load: only evaluate, do not train"
    )
    parser.add_argument(
        "--data-dir", metavar="DIR", help="folder with the four MNIST IDX files (or MNIST_DIR)"
    )
    return parser


def check_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse, before any work, what would fail later (argparse errors exit with status 2)."""
    if args.evaluate_only and not args.load:
        parser.error("argument --evaluate-only: needs --load FILE.npz (the weights to evaluate)")
    if args.load and not Path(args.load).is_file():
        parser.error(f"argument --load: no such file: {args.load}")
    if args.evaluate_only and (args.save or args.plot or args.epochs):
        parser.error(
            "argument --evaluate-only: does not train, so --save, --plot and --epochs do not apply"
        )
    for option, value in (("--save", args.save), ("--plot", args.plot)):
        if value and not Path(value).resolve().parent.is_dir():
            parser.error(f"argument {option}: no directory {Path(value).resolve().parent}")
    if args.data_dir and not Path(args.data_dir).is_dir():
        parser.error(f"argument --data-dir: no such directory: {args.data_dir}")
    if args.plot:
        try:
            require_matplotlib()
        except ImportError as error:
            parser.error(f"argument --plot: {error}")


def make_recipe(args: argparse.Namespace) -> tuple[Recipe, np.random.Generator]:
    """The network's recipe with the options applied, and the generator of the batch order.

    One ``SeedSequence(seed)`` spawns two independent streams: one draws the initial weights,
    the other the order of the mini-batches, so changing one never shifts the other.
    """
    weights_seed, order_seed = np.random.SeedSequence(args.seed).spawn(2)
    recipe = NETWORKS[args.network](np.random.default_rng(weights_seed))
    if args.epochs is not None:
        recipe = dataclasses.replace(recipe, epochs=args.epochs)
    if args.batch_size is not None:
        recipe = dataclasses.replace(recipe, batch_size=args.batch_size)
    return recipe, np.random.default_rng(order_seed)


def parameter_count(recipe: Recipe) -> int:
    return sum(value.size for value in recipe.model.params.values())


def describe_run(args: argparse.Namespace, recipe: Recipe, dataset: Any) -> str:
    """The first line of the output: the network, the recipe and the data."""
    network = f"{args.network}: {parameter_count(recipe):,} parameters"
    if args.evaluate_only:
        return f"{network}; evaluating on test {len(dataset.x_test):,} images"
    return (
        f"{network}, {recipe.optimizer!r}, batch size {recipe.batch_size}, "
        f"{recipe.epochs} epoch(s), lr decay {recipe.lr_decay}, shifts of up to "
        f"{recipe.max_shift} px, seed {args.seed}; train {len(dataset.x_train):,} / "
        f"validation {len(dataset.x_val):,} / test {len(dataset.x_test):,} images"
    )


def percent(metrics: Metrics) -> str:
    return f"{100 * metrics.accuracy:.2f}%"


def train(
    recipe: Recipe,
    dataset: Any,
    order_rng: np.random.Generator,
    *,
    out: TextIO,
    err: TextIO,
) -> list[EpochResult]:
    """Train ``recipe.epochs`` epochs; print one line per epoch on ``out``, the bar on ``err``."""
    loss_fn = SoftmaxCrossEntropy()
    x_val, y_val = recipe.inputs(dataset.x_val), dataset.y_val
    examples = len(dataset.x_train)
    batches = -(-examples // recipe.batch_size)
    results = []
    for epoch in range(1, recipe.epochs + 1):
        bar = ProgressBar(batches, f"epoch {epoch}/{recipe.epochs}", stream=err)
        start = time.perf_counter()
        train_metrics = fit_epoch(
            recipe, dataset.x_train, dataset.y_train, order_rng, on_batch=progress_callback(bar)
        )
        seconds = time.perf_counter() - start
        bar.close()
        val_metrics = evaluate(
            recipe.model, loss_fn, x_val, y_val, batch_size=EVALUATION_BATCH_SIZE
        )
        print(
            f"epoch {epoch}/{recipe.epochs}: train loss {train_metrics.loss:.4f} "
            f"acc {percent(train_metrics)} | validation loss {val_metrics.loss:.4f} "
            f"acc {percent(val_metrics)}  [{seconds:.1f} s, {examples / seconds:,.0f} ex/s]",
            file=out,
            flush=True,
        )
        results.append(EpochResult(epoch, train_metrics, val_metrics, seconds))
    return results


def progress_callback(bar: ProgressBar) -> Callable[[int, float, int], None]:
    """``train_epoch``'s ``on_batch(batch_len, batch_loss, batch_correct)`` hook, feeding the
    progress bar the running mean loss per example (each batch weighted by its size) and the
    running accuracy."""
    batches = examples = correct = 0
    loss_sum = 0.0

    def on_batch(batch_len: int, batch_loss: float, batch_correct: int) -> None:
        nonlocal batches, examples, correct, loss_sum
        batches += 1
        examples += batch_len
        correct += batch_correct
        loss_sum += batch_loss * batch_len
        bar.update(batches, examples, loss_sum / examples, correct / examples)

    return on_batch


def run(
    args: argparse.Namespace,
    recipe: Recipe,
    order_rng: np.random.Generator,
    dataset: Any,
    *,
    out: TextIO,
    err: TextIO,
) -> Outcome:
    """After the checks and the weights loading: train, test, save and plot."""
    start = time.perf_counter()
    print(describe_run(args, recipe, dataset), file=out, flush=True)
    if args.load:
        print(f"loaded weights from {args.load}", file=out)
    epochs = [] if args.evaluate_only else train(recipe, dataset, order_rng, out=out, err=err)
    training_seconds = sum(result.seconds for result in epochs)
    test = evaluate(
        recipe.model,
        SoftmaxCrossEntropy(),
        recipe.inputs(dataset.x_test),
        dataset.y_test,
        batch_size=EVALUATION_BATCH_SIZE,
    )
    seconds = time.perf_counter() - start
    if epochs:
        examples = len(epochs) * len(dataset.x_train)
        print(
            f"test loss {test.loss:.4f} acc {percent(test)}  [total {seconds:.1f} s, training "
            f"{examples / training_seconds:,.0f} ex/s]",
            file=out,
        )
    else:
        print(f"test loss {test.loss:.4f} acc {percent(test)}  [{seconds:.1f} s]", file=out)
    if args.save:
        save_params(recipe.model.params, args.save)
        print(f"saved weights to {args.save}", file=out)
    if args.plot:
        plot_curves(
            args.plot,
            train_loss=[result.train.loss for result in epochs],
            train_accuracy=[result.train.accuracy for result in epochs],
            val_loss=[result.validation.loss for result in epochs],
            val_accuracy=[result.validation.accuracy for result in epochs],
            title=f"{args.network} on MNIST (seed {args.seed})",
        )
        print(f"plotted the curves to {args.plot}", file=out)
    return Outcome(epochs, test, seconds)


def main(
    argv: Sequence[str] | None = None,
    *,
    dataset: Any = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """The command line. ``dataset`` replaces MNIST (tests pass a small fake one).

    A dataset is anything with ``x_train, y_train, x_val, y_val, x_test, y_test`` like
    ``toolkit.data.Dataset``. Returns the exit status.
    """
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    parser = build_parser()
    args = parser.parse_args(argv)
    check_arguments(parser, args)
    recipe, order_rng = make_recipe(args)
    if args.load:
        try:
            load_params(recipe.model.params, args.load)
        except ValueError as error:
            parser.error(f"argument --load: {error}")
    if dataset is None:
        try:
            dataset = mnist_data.load_dataset(directory=args.data_dir)
        except mnist_data.MNISTNotFoundError as error:
            print(error, file=err)
            return 1
    run(args, recipe, order_rng, dataset, out=out, err=err)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
