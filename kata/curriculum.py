"""The curriculum: one ordered manifest of the exercises.

The grader, the README table, the generator and the pytest marks all read this list. An
exercise id is a short word (``linear``, ``conv``), never a number, so inserting one renumbers
nothing. Every test of an exercise carries ``@pytest.mark.exercise("<id>")``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Exercise:
    """One exercise: what the learner implements, and where.

    Attributes:
        id: short word used by marks and ``nox -s grade -- <id>``.
        title: a few words for the progress table.
        module: the module under ``reference/`` (and ``exercises/``), without ``.py``.
        implement: the functions and classes the learner writes, as named in the module.
        points: what the exercise scores when done (no partial credit), in the results file.
        capstone: True for an exercise that trains a network on MNIST: its tests get the long
            time limit, its result is cached, and it is graded only after its prerequisites.
        requires: the earlier exercises whose code the capstone's model uses; the grader
            trains it only when all of them are done.
    """

    id: str
    title: str
    module: str
    implement: tuple[str, ...]
    points: float = 10.0
    capstone: bool = False
    requires: tuple[str, ...] = ()

    @property
    def path(self) -> str:
        """The learner's file, relative to the repository root."""
        return f"exercises/{self.module}.py"


# What the capstones' models are made of: every earlier exercise whose code they run.
# (numerical_gradient is a tool of the tests, not a part of any model; NaiveConv2d is the base
# class of Conv2d.)
MLP_PARTS = (
    "activations",
    "linear",
    "softmax_cross_entropy",
    "init",
    "optim",
    "network",
    "training",
)

CURRICULUM: tuple[Exercise, ...] = (
    Exercise(
        "numerical_gradient",
        "Central-difference gradient",
        "numgrad",
        ("numerical_gradient",),
    ),
    Exercise(
        "activations",
        "ReLU, LeakyReLU, sigmoid, tanh",
        "activations",
        ("ReLU", "LeakyReLU", "Sigmoid", "Tanh"),
    ),
    Exercise("linear", "The affine layer", "linear", ("Linear",)),
    Exercise(
        "softmax_cross_entropy",
        "Softmax, cross-entropy, MSE",
        "losses",
        ("softmax", "log_softmax", "SoftmaxCrossEntropy", "MeanSquaredError"),
    ),
    Exercise(
        "init",
        "LeCun, Xavier and He initialization",
        "init",
        ("fans", "lecun_normal", "xavier_uniform", "xavier_normal", "he_normal"),
    ),
    Exercise(
        "optim",
        "SGD, momentum, Nesterov, Adam",
        "optim",
        ("SGD", "Adam"),
    ),
    Exercise("network", "A sequential container", "network", ("Sequential",)),
    Exercise(
        "training",
        "The training loop",
        "training",
        ("train_epoch", "evaluate"),
    ),
    Exercise(
        "mnist_mlp",
        "Capstone: an MLP on MNIST",
        "models",
        ("two_layer_net", "mlp"),
        points=20.0,
        capstone=True,
        requires=MLP_PARTS,
    ),
    Exercise(
        "conv_naive",
        "Convolution with loops",
        "conv_naive",
        ("NaiveConv2d",),
    ),
    Exercise("conv", "Convolution, vectorized", "conv", ("im2col", "col2im", "Conv2d")),
    Exercise(
        "pool",
        "Max pooling, average pooling, flatten",
        "pool",
        ("MaxPool2d", "AvgPool2d", "Flatten"),
    ),
    Exercise(
        "lenet5",
        "Capstone: LeNet-5 on MNIST",
        "models",
        ("lenet5",),
        points=20.0,
        capstone=True,
        requires=(*MLP_PARTS, "conv_naive", "conv", "pool"),
    ),
    Exercise("dropout", "Inverted dropout", "dropout", ("Dropout",)),
    Exercise(
        "batchnorm",
        "Batch normalization, layer normalization",
        "normalization",
        ("BatchNorm1d", "BatchNorm2d", "LayerNorm"),
    ),
    Exercise(
        "clipping",
        "Gradient clipping by norm and by value",
        "clipping",
        ("clip_grad_norm", "clip_grad_value"),
    ),
    Exercise(
        "mnist_regularized",
        "Capstone: an MLP with batch norm and dropout",
        "regularized",
        ("regularized_mlp",),
        points=20.0,
        capstone=True,
        requires=(*MLP_PARTS, "dropout", "batchnorm"),
    ),
    Exercise(
        "autograd",
        "A scalar autograd engine",
        "autograd",
        ("Value", "topological_order"),
    ),
    Exercise(
        "moons",
        "Capstone: an MLP of Values on two moons",
        "autograd",
        ("Neuron", "Layer", "MLP"),
        points=20.0,
        capstone=True,
        requires=("autograd",),
    ),
    Exercise(
        "tensor_autograd",
        "Autograd over numpy arrays",
        "tensor_autograd",
        ("unbroadcast", "Tensor"),
    ),
    Exercise(
        "mnist_autograd",
        "Capstone: the MLP trained through Tensors",
        "tensor_autograd",
        ("TensorMLP",),
        points=20.0,
        capstone=True,
        requires=("init", "optim", "autograd", "tensor_autograd"),
    ),
)

EXERCISE_IDS: tuple[str, ...] = tuple(exercise.id for exercise in CURRICULUM)


def exercise(exercise_id: str) -> Exercise:
    """The exercise with this id; a ValueError lists the valid ids otherwise."""
    for candidate in CURRICULUM:
        if candidate.id == exercise_id:
            return candidate
    raise ValueError(
        f"unknown exercise id {exercise_id!r}; expected one of: {', '.join(EXERCISE_IDS)}"
    )


def prerequisite_modules(item: Exercise) -> tuple[str, ...]:
    """The modules an exercise's tests run: its own and those of its prerequisites, each once."""
    return exercise_modules([item, *(exercise(required) for required in item.requires)])


def exercise_modules(curriculum: Sequence[Exercise] = CURRICULUM) -> tuple[str, ...]:
    """The exercise modules in curriculum order, each once."""
    return tuple(dict.fromkeys(exercise.module for exercise in curriculum))


def _check_curriculum(curriculum: Sequence[Exercise]) -> None:
    """Every prerequisite names an earlier exercise (the manifest is read at import)."""
    seen: set[str] = set()
    for item in curriculum:
        unknown = [required for required in item.requires if required not in seen]
        if unknown:
            raise ValueError(
                f"exercise {item.id!r} requires {unknown}, which are not earlier exercises"
            )
        seen.add(item.id)


_check_curriculum(CURRICULUM)
