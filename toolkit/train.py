"""Train a network of the kata on MNIST from the command line: the reference's or yours.

::

    python -m toolkit.train mlp                       # the recipe as written in models.py
    python -m toolkit.train mlp --impl exercises      # your network, from your exercises/
    python -m toolkit.train lenet5 --epochs 10 --save lenet5.npz --plot lenet5.png
    python -m toolkit.train lenet5 --load lenet5.npz --evaluate-only

``--impl`` picks whose code trains: ``reference`` (the default) or ``exercises`` (yours: your
``models``, ``losses`` and ``training`` modules, built from your layers), imported by name, so
this command works with any implementation and shows each the same way. When your code cannot
run yet (a function still raises ``NotImplementedError``, or a module does not import), the
command says which file and function, and which ``nox -s grade -- <id>`` to run, in one
paragraph instead of a traceback.

Each epoch shows a progress bar on stderr when it is a terminal (tqdm: batches, time spent and
left, running loss and accuracy, examples per second), then prints the training and
validation loss and accuracy on stdout; the end prints the test accuracy, the total time and
the throughput. The same ``--seed`` gives the same numbers: the seed draws the initial weights
and, independently, the order of the mini-batches. Only the times (in square brackets) change
from one run to the next.

``--plot FILE.png`` writes the curves to ``FILE.png``, what the network got wrong (the first
misclassified test digits with their predicted and true labels, and the confusion matrix) to
``FILE-mistakes.png`` and, for a network with a convolution (LeNet-5), its first convolution's
filters and their responses to a test digit to ``FILE-filters.png``.

Every output path (``--save``, ``--plot`` and the figures beside it) is checked before any
work: a directory, a folder that does not exist or cannot be written is refused at once.

Data: the training split (50,000 images), the validation split (the last 10,000 of the 60,000
training images) after every epoch, the test set (10,000) at the end. ``--data-dir`` names a
folder with the four IDX files; otherwise ``toolkit.data`` finds MNIST (cache, mirrors, the
package index).

``python -m toolkit.train moons`` is the one network not trained on MNIST: the scalar-autograd
MLP of the ``moons`` exercise (``<impl>.autograd``) on the two half-moons of ``toolkit.moons``,
``--epochs`` full-batch steps (default 40); ``--plot FILE.png`` draws its decision boundary.

This module is infrastructure: it is given, not an exercise.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import importlib.util
import os
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple, Protocol, TextIO

import numpy as np

from toolkit import data as mnist_data
from toolkit import moons
from toolkit.plots import (
    plot_curves,
    plot_decision_boundary,
    plot_filters,
    plot_mistakes,
    require_matplotlib,
)
from toolkit.progress import EpochProgress
from toolkit.weights import NotFiniteError, load_params, save_params

EVALUATION_BATCH_SIZE = 1000
NETWORK_NAMES = ("two_layer_net", "mlp", "lenet5")
"""The builders of ``models.NETWORKS`` (kept equal to the reference's by a test)."""
TOY_NETWORKS = ("moons",)
"""Networks of Values trained on a toy data set of the plane, not on MNIST (``run_moons``)."""
MOONS_SIZES = (16, 16, 1)
MOONS_STEPS = 40
IMPLEMENTATIONS = ("reference", "exercises")
MODULES = ("models", "losses", "training")
"""The modules of an implementation that the trainer calls."""
SHOWN_MISTAKES = 32


class Scores(Protocol):
    """What ``training.Metrics`` holds, in any implementation."""

    @property
    def loss(self) -> float: ...

    @property
    def accuracy(self) -> float: ...


class Implementation(NamedTuple):
    """The modules of the implementation that trains: ``reference`` or ``exercises``."""

    package: str
    directory: Path
    models: ModuleType
    losses: ModuleType
    training: ModuleType


class LearnerCodeError(Exception):
    """The implementation's code cannot run yet; the message says where and what to do."""


class EpochResult(NamedTuple):
    """What one epoch measured."""

    epoch: int
    train: Scores
    validation: Scores
    seconds: float


class Outcome(NamedTuple):
    """What a run measured: one entry per epoch (none with ``--evaluate-only``), then the test."""

    epochs: list[EpochResult]
    test: Scores
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
        description="Train a network of the kata on MNIST (the reference's or yours) and report "
        "its accuracy.",
        epilog="A progress bar (epoch, batches, running loss and accuracy, examples per second, "
        "time left) is drawn on stderr when it is a terminal; stdout gets one summary line per "
        "epoch and the test accuracy. Output paths are checked before anything trains.",
    )
    parser.add_argument(
        "network", choices=NETWORK_NAMES + TOY_NETWORKS, help="which network to train"
    )
    parser.add_argument(
        "--impl",
        choices=IMPLEMENTATIONS,
        default="reference",
        help="whose code trains: reference (default) or exercises (your own network)",
    )
    parser.add_argument(
        "--impl-dir",
        metavar="DIR",
        help="import the --impl package from DIR/<impl>/ instead of the repository",
    )
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
    parser.add_argument(
        "--plot",
        metavar="FILE.png",
        help="plot loss and accuracy per epoch to FILE.png; also writes FILE-mistakes.png "
        "(misclassified test digits and the confusion matrix) and, for lenet5, FILE-filters.png "
        "(the first convolution's filters)",
    )
    parser.add_argument("--load", metavar="FILE.npz", help="start from these saved weights")
    parser.add_argument(
        "--evaluate-only", action="store_true", help="with --load: only evaluate, do not train"
    )
    parser.add_argument(
        "--data-dir", metavar="DIR", help="folder with the four MNIST IDX files (or MNIST_DIR)"
    )
    return parser


def figure_paths(plot: str | os.PathLike[str]) -> dict[str, Path]:
    """The files ``--plot FILE.png`` writes: the curves, ``FILE-mistakes.png`` beside it, and
    ``FILE-filters.png`` (only for a network with a convolution).
    """
    curves = Path(plot)
    return {
        "curves": curves,
        "mistakes": curves.with_name(f"{curves.stem}-mistakes{curves.suffix}"),
        "filters": curves.with_name(f"{curves.stem}-filters{curves.suffix}"),
    }


def output_problem(path: Path) -> str | None:
    """Why a file cannot be written at ``path`` (atomically: a temporary file beside it, then a
    rename), or None when it can.

    Writing needs ``path`` not to be a directory, and its folder to exist and be writable
    (``os.access``: a rename replaces a file whatever its own permissions).
    """
    if path.is_dir():
        return f"{path} is a directory, not a file"
    folder = path.absolute().parent
    if not folder.exists():
        existing = next(parent for parent in folder.parents if parent.exists())
        if not existing.is_dir():
            return f"{existing} is a file, so there is no directory {folder}"
        return f"no directory {folder}"
    if not folder.is_dir():
        return f"{folder} is a file, not a directory"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"cannot write into the directory {folder} (permission denied)"
    return None


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
    outputs = [("--save", Path(args.save))] if args.save else []
    if args.plot:
        outputs += [("--plot", path) for path in figure_paths(args.plot).values()]
    for option, path in outputs:
        problem = output_problem(path)
        if problem:
            parser.error(f"argument {option}: {problem}")
    if (
        args.save
        and args.plot
        and Path(args.save).absolute()
        in {path.absolute() for path in figure_paths(args.plot).values()}
    ):
        parser.error(f"argument --save: {args.save} is also a figure of --plot {args.plot}")
    if args.data_dir and not Path(args.data_dir).is_dir():
        parser.error(f"argument --data-dir: no such directory: {args.data_dir}")
    if args.impl_dir:
        init = Path(args.impl_dir) / args.impl / "__init__.py"
        if not init.is_file():
            parser.error(f"argument --impl-dir: no package {args.impl} there (no {init})")
    if args.plot:
        try:
            require_matplotlib()
        except ImportError as error:
            parser.error(f"argument --plot: {error}")


def load_implementation(package: str, directory: str | None = None) -> Implementation:
    """Import ``<package>.models``, ``.losses`` and ``.training`` by name.

    With ``directory``, the package is imported from ``directory/<package>/`` in place of any
    ``<package>`` already imported (``sys.modules`` then holds that one). Raises
    ``LearnerCodeError`` naming the file and line when a module does not import.
    """
    if directory:
        install_package(package, Path(directory))
    try:
        modules = {name: importlib.import_module(f"{package}.{name}") for name in MODULES}
    except Exception as error:  # whatever the import raised is the author's to see
        raise LearnerCodeError(describe_import_error(package, error)) from error
    root = Path(modules["models"].__file__ or ".").resolve().parent
    return Implementation(package, root, **modules)


def install_package(package: str, directory: Path) -> None:
    """Make ``import <package>`` find ``directory/<package>/``, forgetting any loaded one."""
    init = (directory / package / "__init__.py").resolve()
    for name in [name for name in sys.modules if name == package or name.startswith(package + ".")]:
        del sys.modules[name]
    spec = importlib.util.spec_from_file_location(
        package, init, submodule_search_locations=[str(init.parent)]
    )
    if spec is None or spec.loader is None:
        raise LearnerCodeError(f"cannot import the package {package} from {init}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[package] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        del sys.modules[package]
        raise LearnerCodeError(describe_import_error(package, error)) from error


def shown_path(filename: str) -> str:
    """A file name as the user would type it: relative to the working directory when inside."""
    path = Path(filename).resolve()
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def exercise_of(filename: str, function: str) -> str | None:
    """The curriculum's exercise that ``function`` of the module ``filename`` belongs to.

    ``function`` is a qualified name (``"Linear.backward"``): its first part is matched with
    what each exercise of that module implements; failing that, the module's first exercise.
    """
    from kata.curriculum import CURRICULUM  # the manifest: the one map of files to exercises

    module, owner = Path(filename).stem, function.split(".")[0]
    candidates = [exercise for exercise in CURRICULUM if exercise.module == module]
    for exercise in candidates:
        if owner in exercise.implement:
            return exercise.id
    return candidates[0].id if candidates else None


def grade_command(exercise_id: str | None) -> str:
    return f"`nox -s grade -- {exercise_id}`" if exercise_id else "`nox`"


def describe_import_error(package: str, error: Exception) -> str:
    """One paragraph: which file and line of ``package`` does not import, and what to run.

    The place is the innermost frame outside importlib and this module (for a missing module,
    there is none: the paragraph then names the error alone).
    """
    if isinstance(error, SyntaxError) and error.filename:
        place: tuple[str, int | None] | None = (error.filename, error.lineno)
        what = error.msg
    else:
        frames = [
            frame
            for frame in traceback.extract_tb(error.__traceback__)
            if "importlib" not in frame.filename and Path(frame.filename) != Path(__file__)
        ]
        place = (frames[-1].filename, frames[-1].lineno) if frames else None
        what = str(error)
    where = f"{shown_path(place[0])}, line {place[1]}: " if place else ""
    exercise_id = exercise_of(place[0], "") if place else None
    return (
        f"Cannot import your {package} package: {where}{type(error).__name__}: {what}. "
        f"Fix that first; {grade_command(exercise_id)} then says what else is needed, and this "
        "command trains once it imports."
    )


class Frame(NamedTuple):
    """Where a call was: file, qualified function name (``"Linear.backward"``), line."""

    filename: str
    function: str
    line: int


def frames_of(error: BaseException) -> list[Frame]:
    """The frames of ``error``'s traceback, outermost first."""
    return [
        Frame(
            frame.f_code.co_filename,
            getattr(frame.f_code, "co_qualname", frame.f_code.co_name),  # 3.11+; 3.10: the name
            line,
        )
        for frame, line in traceback.walk_tb(error.__traceback__)
    ]


def inherited_from(error: BaseException, package: str) -> Frame | None:
    """When ``error`` was raised in a method of a base class outside ``package`` (the given
    ``Layer.forward``) on an instance of a class of ``package``: that class's file and name."""
    frames = [frame for frame, _ in traceback.walk_tb(error.__traceback__)]
    instance = frames[-1].f_locals.get("self") if frames else None
    cls = type(instance)
    module = sys.modules.get(cls.__module__)
    if instance is None or not cls.__module__.startswith(package + ".") or module is None:
        return None
    return Frame(module.__file__ or "?", cls.__qualname__, 0)


def describe_stub(error: NotImplementedError, impl: Implementation) -> str:
    """One paragraph: which function of ``impl`` is not written yet, and what to run.

    The function is the innermost frame inside the implementation's folder. When the error
    was raised outside it (the base ``Layer.forward`` of a layer that defines none), the
    paragraph says so and names the learner's call.
    """
    frames = frames_of(error)
    own = [
        frame for frame in frames if Path(frame.filename).resolve().is_relative_to(impl.directory)
    ]
    if not own:
        return f"Your network cannot train yet: {error}. `nox` says what is left to write."
    where = own[-1]
    exercise_id = exercise_of(where.filename, where.function)
    place = f"{where.function} in {shown_path(where.filename)} (line {where.line})"
    if frames[-1] is where:
        what = f"{place} is not written ({error})"
    else:
        what = f"{error}, called from {place}"
        owner = inherited_from(error, impl.package)
        if owner is not None:  # a method the learner's class does not define: that class's file
            exercise_id = exercise_of(owner.filename, owner.function)
            what += f" (the class is in {shown_path(owner.filename)})"
    return (
        f"Your network cannot train yet: {what}. Training uses every exercise the network is "
        f"built from: finish this one, {grade_command(exercise_id)} tells you when it is done, "
        "then train again."
    )


def make_recipe(impl: Implementation, args: argparse.Namespace) -> tuple[Any, np.random.Generator]:
    """The network's recipe with the options applied, and the generator of the batch order.

    One ``SeedSequence(seed)`` spawns two independent streams: one draws the initial weights,
    the other the order of the mini-batches, so changing one never shifts the other.
    """
    networks = getattr(impl.models, "NETWORKS", {})
    if args.network not in networks:
        raise LearnerCodeError(
            f"{shown_path(impl.models.__file__ or '?')} has no network {args.network!r} in "
            f"NETWORKS (it has {', '.join(networks) or 'none'}): keep the NETWORKS dictionary "
            "the module was given."
        )
    weights_seed, order_seed = np.random.SeedSequence(args.seed).spawn(2)
    recipe = networks[args.network](np.random.default_rng(weights_seed))
    if args.epochs is not None:
        recipe = dataclasses.replace(recipe, epochs=args.epochs)
    if args.batch_size is not None:
        recipe = dataclasses.replace(recipe, batch_size=args.batch_size)
    return recipe, np.random.default_rng(order_seed)


def parameter_count(recipe: Any) -> int:
    return sum(value.size for value in recipe.model.params.values())


def describe_run(args: argparse.Namespace, recipe: Any, dataset: Any) -> str:
    """The first line of the output: the network, the recipe and the data."""
    whose = "" if args.impl == "reference" else f" ({args.impl})"
    network = f"{args.network}{whose}: {parameter_count(recipe):,} parameters"
    if args.evaluate_only:
        return f"{network}; evaluating on test {len(dataset.x_test):,} images"
    return (
        f"{network}, {recipe.optimizer!r}, batch size {recipe.batch_size}, "
        f"{recipe.epochs} epoch(s), lr decay {recipe.lr_decay}, shifts of up to "
        f"{recipe.max_shift} px, seed {args.seed}; train {len(dataset.x_train):,} / "
        f"validation {len(dataset.x_val):,} / test {len(dataset.x_test):,} images"
    )


def percent(metrics: Scores) -> str:
    return f"{100 * metrics.accuracy:.2f}%"


def train(
    impl: Implementation,
    recipe: Any,
    dataset: Any,
    order_rng: np.random.Generator,
    *,
    out: TextIO,
    err: TextIO,
    progress: bool | None = None,
) -> list[EpochResult]:
    """Train ``recipe.epochs`` epochs; print one line per epoch on ``out``, the bar on ``err``.

    ``progress``: draw the bar (True), never (False), or when ``err`` is a terminal (None).
    """
    loss_fn = impl.losses.SoftmaxCrossEntropy()
    x_val, y_val = recipe.inputs(dataset.x_val), dataset.y_val
    examples = len(dataset.x_train)
    batches = -(-examples // recipe.batch_size)
    results = []
    for epoch in range(1, recipe.epochs + 1):
        description = f"epoch {epoch}/{recipe.epochs}"
        start = time.perf_counter()
        with EpochProgress(
            batches, description, stream=err, disable=None if progress is None else not progress
        ) as bar:
            train_metrics = impl.models.fit_epoch(
                recipe, dataset.x_train, dataset.y_train, order_rng, on_batch=bar
            )
        seconds = time.perf_counter() - start
        val_metrics = impl.training.evaluate(
            recipe.model, loss_fn, x_val, y_val, batch_size=EVALUATION_BATCH_SIZE
        )
        print(
            f"{description}: train loss {train_metrics.loss:.4f} "
            f"acc {percent(train_metrics)} | validation loss {val_metrics.loss:.4f} "
            f"acc {percent(val_metrics)}  [{seconds:.1f} s, {examples / seconds:,.0f} ex/s]",
            file=out,
            flush=True,
        )
        results.append(EpochResult(epoch, train_metrics, val_metrics, seconds))
    return results


def predict(model: Any, x: np.ndarray, batch_size: int = EVALUATION_BATCH_SIZE) -> np.ndarray:
    """The predicted class of every example, ``(N,)``: the argmax of the logits, in eval mode."""
    model.eval()
    return np.concatenate(
        [
            model.forward(x[start : start + batch_size]).argmax(axis=1)
            for start in range(0, len(x), batch_size)
        ]
    )


def first_convolution(model: Any) -> tuple[Any, np.ndarray] | None:
    """The first layer of ``model`` with weights ``(C_out, C_in, kh, kw)``, and the weights."""
    for layer in getattr(model, "layers", ()):
        for value in getattr(layer, "params", {}).values():
            if np.ndim(value) == 4:
                return layer, value
    return None


def write_figures(
    args: argparse.Namespace, recipe: Any, dataset: Any, epochs: list[EpochResult]
) -> list[Path]:
    """The figures of ``--plot``: the curves, the mistakes and, with a convolution, the filters."""
    paths = figure_paths(args.plot)
    title = f"{args.network}{'' if args.impl == 'reference' else f' ({args.impl})'} on MNIST"
    plot_curves(
        paths["curves"],
        train_loss=[result.train.loss for result in epochs],
        train_accuracy=[result.train.accuracy for result in epochs],
        val_loss=[result.validation.loss for result in epochs],
        val_accuracy=[result.validation.accuracy for result in epochs],
        title=f"{title} (seed {args.seed})",
    )
    written = [paths["curves"]]
    x_test = recipe.inputs(dataset.x_test)
    predicted = predict(recipe.model, x_test)
    plot_mistakes(
        paths["mistakes"],
        dataset.x_test,
        dataset.y_test,
        predicted,
        shown=SHOWN_MISTAKES,
        title=f"What {title} gets wrong",
    )
    written.append(paths["mistakes"])
    convolution = first_convolution(recipe.model)
    if convolution is not None:
        layer, weights = convolution
        first = layer is recipe.model.layers[0]
        plot_filters(
            paths["filters"],
            weights,
            digit=dataset.x_test[0] if first else None,
            responses=layer.forward(x_test[:1])[0] if first else None,
            title=f"The first convolution's filters of {title}",
        )
        written.append(paths["filters"])
    return written


def run(
    args: argparse.Namespace,
    impl: Implementation,
    recipe: Any,
    order_rng: np.random.Generator,
    dataset: Any,
    *,
    out: TextIO,
    err: TextIO,
    progress: bool | None = None,
) -> Outcome:
    """After the checks and the weights loading: train, test, save and plot."""
    start = time.perf_counter()
    print(describe_run(args, recipe, dataset), file=out, flush=True)
    if args.load:
        print(f"loaded weights from {args.load}", file=out)
    epochs = (
        []
        if args.evaluate_only
        else train(impl, recipe, dataset, order_rng, out=out, err=err, progress=progress)
    )
    training_seconds = sum(result.seconds for result in epochs)
    test = impl.training.evaluate(
        recipe.model,
        impl.losses.SoftmaxCrossEntropy(),
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
        written = write_figures(args, recipe, dataset, epochs)
        print(
            f"plotted the curves and what it got wrong to {', '.join(map(str, written))}", file=out
        )
    return Outcome(epochs, test, seconds)


def run_moons(
    parser: argparse.ArgumentParser, args: argparse.Namespace, *, out: TextIO, err: TextIO
) -> int:
    """``moons``: train ``<impl>.autograd.MLP(2, [16, 16, 1])`` with its ``train_classifier``
    on ``toolkit.moons``, report the held-out accuracy, draw the decision boundary (``--plot``).
    """
    for option in ("save", "load", "batch_size", "data_dir"):
        if getattr(args, option):
            parser.error(
                f"argument --{option.replace('_', '-')}: does not apply to moons (a network of "
                "Values trained full-batch on points of the plane)"
            )
    if args.impl_dir:
        install_package(args.impl, Path(args.impl_dir))
    try:
        autograd = importlib.import_module(f"{args.impl}.autograd")
    except Exception as error:  # whatever the import raised is the author's to see
        print(describe_import_error(args.impl, error), file=err)
        return 1
    x_train, y_train, x_test, y_test = moons.train_and_test()
    steps = args.epochs or MOONS_STEPS
    sizes = list(MOONS_SIZES)
    start = time.perf_counter()

    def report(step: int, loss: float, accuracy: float) -> None:
        if (step + 1) % 10 == 0 or step + 1 == steps:
            print(
                f"step {step + 1:3d}/{steps}  loss {loss:.4f}  train acc {100 * accuracy:.1f}%",
                file=out,
                flush=True,
            )

    try:
        model = autograd.MLP(2, sizes, rng=np.random.default_rng(args.seed))
        print(
            f"moons: MLP(2, {sizes}) of Values, {len(model.parameters())} parameters, {steps} "
            f"full-batch steps on {len(x_train)} points",
            file=out,
            flush=True,
        )
        autograd.train_classifier(model, x_train, y_train, steps=steps, on_step=report)
        scores = autograd.predict_scores(model, x_test)
        accuracy = float(np.mean((scores > 0) == (y_test == 1)))
        print(
            f"test acc {100 * accuracy:.2f}% on {len(x_test)} held-out points  "
            f"[{time.perf_counter() - start:.1f} s]",
            file=out,
        )
        if args.plot:
            path = plot_decision_boundary(
                args.plot,
                lambda points: autograd.predict_scores(model, points),
                x_train,
                y_train,
                title=f"moons: MLP(2, {sizes}), {steps} steps, test acc {100 * accuracy:.1f}%",
            )
            print(f"plotted the decision boundary to {path}", file=out)
    except NotImplementedError as error:
        print(f"{error}\n  Grade it with `nox -s grade -- moons`.", file=err)
        return 1
    return 0


def main(
    argv: Sequence[str] | None = None,
    *,
    dataset: Any = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    progress: bool | None = None,
) -> int:
    """The command line. ``dataset`` replaces MNIST (tests pass a small fake one).

    A dataset is anything with ``x_train, y_train, x_val, y_val, x_test, y_test`` like
    ``toolkit.data.Dataset``. ``progress`` forces the progress bar on or off (default: on
    when ``err`` is a terminal). Returns the exit status: 0, 1 when the implementation's code
    cannot run yet, MNIST is not found or the training diverged, 2 for a bad argument, 130
    after Ctrl-C.
    """
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    parser = build_parser()
    args = parser.parse_args(argv)
    check_arguments(parser, args)
    impl = None
    try:
        if args.network in TOY_NETWORKS:
            return run_moons(parser, args, out=out, err=err)
        impl = load_implementation(args.impl, args.impl_dir)
        recipe, order_rng = make_recipe(impl, args)
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
        run(args, impl, recipe, order_rng, dataset, out=out, err=err, progress=progress)
    except LearnerCodeError as error:
        print(error, file=err)
        return 1
    except NotImplementedError as error:
        if impl is None:
            raise
        print(describe_stub(error, impl), file=err)
        return 1
    except NotFiniteError as error:  # the training diverged: nothing worth saving
        print(error, file=err)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted: nothing more is saved or plotted", file=err)
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
