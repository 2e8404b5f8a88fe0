"""The benchmark (``nox -s bench``): its PyTorch twin mirrors the reference, and it runs.

No figure is asserted: timings on shared machines are noise. These tests check that the
comparison compares the same network and that the command prints its table.
"""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from benchmarks.bench import cpu_ratios, ratios, step_flops, step_products, table, torch_model
from kata.paths import REPOSITORY
from reference.models import NETWORKS


def _recording_nn() -> SimpleNamespace:
    """A stand-in for ``torch.nn`` whose layers are tuples (name, args, kwargs)."""

    def layer(name: str):
        return lambda *args, **kwargs: (name, args, kwargs)

    names = ("Linear", "Conv2d", "MaxPool2d", "ReLU", "Flatten")
    return SimpleNamespace(**{name: layer(name) for name in names}, Sequential=lambda *ls: ls)


@pytest.mark.parametrize("network", sorted(NETWORKS))
def test_the_torch_twin_has_the_reference_layers_and_sizes(network: str) -> None:
    recipe = NETWORKS[network](np.random.default_rng(0))
    twin = torch_model(_recording_nn(), recipe.model)
    assert [name for name, _, _ in twin] == [type(layer).__name__ for layer in recipe.model]
    twin_weights = [args[:2] for name, args, _ in twin if name in ("Linear", "Conv2d")]
    reference_weights = [
        (layer.params["W"].shape[0], layer.params["W"].shape[1])
        if type(layer).__name__ == "Linear"
        else (layer.in_channels, layer.out_channels)
        for layer in recipe.model
        if layer.params
    ]
    assert twin_weights == reference_weights


def test_the_benchmark_prints_its_table() -> None:
    command = ["-m", "benchmarks.bench", "--networks", "two_layer_net", "--no-torch"]
    result = subprocess.run(
        [sys.executable, *command, "--repeats", "1", "--batches", "2"],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    row = next(line for line in result.stdout.splitlines() if line.startswith("| two_layer_net |"))
    assert f"| numpy {np.__version__} |" in row, row
    assert "GFLOP/s" in result.stdout and "one core's peak" in result.stdout
    assert row.count("%") == 1, f"the fraction of one core's peak is missing: {row}"


def test_a_step_counts_the_flops_of_its_matrix_products() -> None:
    """MLP 784-1024-10 on 128 examples: the first layer needs no input gradient."""
    recipe = NETWORKS["mlp"](np.random.default_rng(0))
    first = 2 * 128 * 784 * 1024 * 2  # forward and weight gradient
    last = 2 * 128 * 1024 * 10 * 3  # forward, weight gradient, input gradient
    assert step_flops(recipe, 128) == first + last


def test_a_step_lists_its_matrix_products_in_the_layouts_of_the_reference() -> None:
    recipe = NETWORKS["lenet5"](np.random.default_rng(0))
    products = step_products(recipe, 2)
    first_conv = [(6, 25, 2 * 28 * 28), (25, 2 * 28 * 28, 6)]  # W2 @ cols, cols @ dout2.T
    second_conv = [(16, 150, 200), (150, 200, 16), (150, 16, 200)]  # and W2.T @ dout2
    first_linear = [(2, 400, 120), (400, 2, 120), (2, 120, 400)]  # x @ W, x.T @ dout, dout @ W.T
    assert products[:8] == first_conv + second_conv + first_linear


def test_a_convolution_counts_every_output_position() -> None:
    recipe = NETWORKS["lenet5"](np.random.default_rng(0))
    conv1 = 2 * (2 * 28 * 28 * 6 * 25) * 2  # no input gradient for the data
    conv2 = 2 * (2 * 10 * 10 * 16 * 150) * 3
    dense = 2 * 2 * (400 * 120 + 120 * 84 + 84 * 10) * 3
    assert step_flops(recipe, 2) == conv1 + conv2 + dense


def test_the_ratio_pairs_the_rounds_taken_back_to_back() -> None:
    reference = [{"examples_per_second": 100.0}, {"examples_per_second": 50.0}]
    torch = [{"examples_per_second": 80.0}, {"examples_per_second": 100.0}]
    assert ratios(reference, torch) == [0.8, 2.0]


def test_the_cpu_ratio_divides_the_cpu_time_of_a_step() -> None:
    reference = [{"cpu_step_seconds": 0.02}, {"cpu_step_seconds": 0.03}]
    torch = [{"cpu_step_seconds": 0.04}, {"cpu_step_seconds": 0.02}]
    assert cpu_ratios(reference, torch) == [0.5, 1.5]


def test_the_table_prints_both_ratios_with_their_range() -> None:
    def result(framework: str, examples_per_second: float, cpu: float) -> dict[str, object]:
        return {
            "network": "mlp",
            "framework": framework,
            "version": framework,
            "batch_size": 128,
            "examples_per_second": examples_per_second,
            "epoch_seconds": 1.0,
            "peak_memory_mib": 1.0,
            "step_flops": 10**9,
            "gflops_per_second": 1.0,
            "cpu_step_seconds": cpu,
            "products_seconds": 2.0,
        }

    results = {
        ("mlp", "reference"): [result("reference", 100.0, 0.02), result("reference", 50.0, 0.03)],
        ("mlp", "torch"): [result("torch", 80.0, 0.04), result("torch", 100.0, 0.02)],
    }
    row = table(results, peak_flops=1e10).splitlines()[2]
    # the products alone: 2 s against PyTorch's steps of 128/80 = 1.6 s and 128/100 = 1.28 s
    assert row.endswith("| 1.40x (0.80-2.00) | 1.00x (0.50-1.50) | 1.41x (1.25-1.56) |"), row


def test_the_profile_prints_every_layer_and_skips_the_unused_input_gradient() -> None:
    command = ["-m", "benchmarks.profile", "--networks", "two_layer_net", "--no-torch"]
    result = subprocess.run(
        [sys.executable, *command, "--repeats", "2", "--batch-size", "4"],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    recipe = NETWORKS["two_layer_net"](np.random.default_rng(0))
    for index, layer in enumerate(recipe.model):
        for direction in ("forward", "backward"):
            assert f"| {index} {layer!r} {direction} |" in result.stdout, result.stdout
    for part in ("loss forward", "optimizer step", "whole step (reference)", "sum of the parts"):
        assert f"| {part} |" in result.stdout, result.stdout
    assert "|   0 Linear(784, 10): x @ W |" in result.stdout, result.stdout
    assert "|   0 Linear(784, 10): dx" not in result.stdout, "the data needs no input gradient"
    assert "|   2 Linear(10, 10): dx" in result.stdout, result.stdout
