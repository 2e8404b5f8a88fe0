"""``python -m toolkit.train moons``: the scalar-autograd MLP on the two moons (infrastructure).

Run in-process with two steps (a few seconds of Values), on the reference and on the pristine
stubs; the data comes from ``toolkit.moons``, seeded.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kata.paths import REPOSITORY
from toolkit import moons, train


def run_moons(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = train.main(["moons", *argv], out=out, err=err)
    return status, out.getvalue(), err.getvalue()


def test_moons_trains_reports_and_draws_the_boundary(tmp_path: Path) -> None:
    figure = tmp_path / "moons.png"
    status, out, err = run_moons(["--epochs", "2", "--plot", str(figure)])
    assert status == 0, err
    assert "337 parameters, 2 full-batch steps on 100 points" in out, out
    assert "step   2/2" in out and "test acc" in out, out
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", "--plot did not write a PNG"


def test_moons_refuses_the_mnist_options() -> None:
    with pytest.raises(SystemExit) as exit_info:
        run_moons(["--batch-size", "8"])
    assert exit_info.value.code == 2


def test_moons_on_the_stubs_names_the_function_to_write(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "kata.generate", "--stubs-to", str(tmp_path)],
        cwd=REPOSITORY,
        check=True,
        capture_output=True,
    )
    command = ["toolkit.train", "moons", "--impl", "exercises", "--impl-dir", str(tmp_path)]
    result = subprocess.run(
        [sys.executable, "-m", *command],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "moons: implement MLP" in result.stderr and "nox -s grade -- moons" in result.stderr


def test_the_moons_are_seeded_balanced_and_interleaved() -> None:
    x, y = moons.make_moons(101, rng=np.random.default_rng(5))
    again, _ = moons.make_moons(101, rng=np.random.default_rng(5))
    assert x.shape == (101, 2) and y.shape == (101,) and np.array_equal(x, again)
    assert (np.count_nonzero(y == 0), np.count_nonzero(y == 1)) == (51, 50)
    # no straight line separates them: the best least-squares linear classifier errs
    features = np.column_stack([x, np.ones(len(x))])
    weights, *_ = np.linalg.lstsq(features, 2.0 * y - 1.0, rcond=None)
    assert np.mean((features @ weights > 0) == (y == 1)) < 0.95
