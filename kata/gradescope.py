"""Gradescope: the autograder zip, and the conversion of a grade to Gradescope's results.json.

Built by ``nox -s gradescope`` (see INSTRUCTORS.md)::

    python -m kata.gradescope build                       # dist/gradescope-autograder.zip
    python -m kata.gradescope build --output hw1.zip --exercises linear conv   # a part
    python -m kata.gradescope run --root /autograder                     # what run_autograder does

The zip holds, at its root: ``setup.sh`` (installs Python, the kata's dependencies from
``requirements.txt``, and fetches MNIST into the image's cache once), ``run_autograder``, the
judge (``kata/``, ``tests/``, ``toolkit/``, ``reference/``, ``benchmarks/`` and
``pyproject.toml``) and pristine stubs as ``exercises/``. ``reference/`` is there because the
judge needs it (the capstones time the learner's network against the reference network, and
the project's own test modules import it at collection); ``solutions/`` is left out.

On Gradescope, ``run_autograder`` copies the submission's exercise modules (``*.py`` at the top
of the submission, or in its ``exercises/`` folder) over a fresh copy of the stubs, so a module
the student did not submit is graded as a stub and a file that is not an exercise module is
ignored (and named in the output). It runs ``python -m kata.grade <ids> --impl-dir <copy>
--results <file>`` in a subprocess with a time limit, and converts that file to
``/autograder/results/results.json``: one test per exercise (score, max_score, status, the
grader's learner-facing message and the outcome of each of its tests as output), the total
score, and a summary as the top-level output. When the grader writes no results (it crashed,
or ran out of time), results.json still comes out: every exercise at 0 with what happened.

The format is Gradescope's "Autograder Specifications" (results.json): :func:`validate` checks
a document against its documented fields before it is written.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from kata.curriculum import CURRICULUM, Exercise, exercise, exercise_modules

REPOSITORY = Path(__file__).resolve().parent.parent
JUDGE = ("kata", "tests", "toolkit", "reference", "benchmarks")  # folders the zip holds
EXTRAS = ("test",)  # what the judge needs from pyproject.toml's extras
DEFAULT_POINTS = 10.0  # an exercise's points when the curriculum sets none
GRADE_TIMEOUT_SECONDS = 1800.0  # set Gradescope's own timeout above this (INSTRUCTORS.md)
STOP_GRACE_SECONDS = 10.0  # after the time limit's SIGINT, how long the grader has to stop
DONE_STATUSES = ("done", "cached")  # a cached capstone is done: its result was reused
EXERCISES_FILE = "kata-exercises.txt"  # in the zip: the exercises an assignment grades

GradeCommand = Callable[[Sequence[str], Path, Path], list[str]]

# Gradescope's documented results.json fields (Autograder Specifications, "Output format").
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
OUTPUT_FORMATS = ("text", "html", "simple_format", "md", "ansi")
STATUSES = ("passed", "failed")
TOP_LEVEL_FIELDS: dict[str, type | tuple[type, ...]] = {
    "score": (int, float),
    "execution_time": (int, float),
    "output": str,
    "output_format": str,
    "test_output_format": str,
    "test_name_format": str,
    "visibility": str,
    "stdout_visibility": str,
    "extra_data": dict,
    "tests": list,
    "leaderboard": list,
}
TEST_FIELDS: dict[str, type | tuple[type, ...]] = {
    "score": (int, float),
    "max_score": (int, float),
    "status": str,
    "name": str,
    "name_format": str,
    "number": str,
    "output": str,
    "output_format": str,
    "tags": list,
    "visibility": str,
    "extra_data": dict,
}

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image.
set -euo pipefail
apt-get update
apt-get install -y python3 python3-pip python3-venv
python3 -m venv /autograder/venv
/autograder/venv/bin/python -m pip install --upgrade pip
/autograder/venv/bin/python -m pip install -r /autograder/source/requirements.txt
# MNIST into the image's cache, so that grading a capstone never downloads it.
cd /autograder/source && /autograder/venv/bin/python -m toolkit.data
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this for every submission: grade it, write /autograder/results/results.json.
# KATA_PYTHON and KATA_AUTOGRADER_ROOT let the kata's own test run it outside Gradescope.
set -euo pipefail
ROOT="${KATA_AUTOGRADER_ROOT:-/autograder}"
PYTHON="${KATA_PYTHON:-$ROOT/venv/bin/python}"
cd "$ROOT/source"
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
exec "$PYTHON" -m kata.gradescope run --root "$ROOT"
"""


def points(item: Exercise) -> float:
    """The points of an exercise: the curriculum's ``points`` where it sets them."""
    return float(getattr(item, "points", DEFAULT_POINTS))


def load_toml(path: Path) -> dict[str, Any]:
    """A TOML file, read by tomllib (by tomli on Python 3.10: the ``test`` extra has it)."""
    toml = importlib.import_module("tomllib" if sys.version_info >= (3, 11) else "tomli")
    document: dict[str, Any] = toml.loads(path.read_text(encoding="utf-8"))
    return document


def requirements(pyproject: Path, extras: Sequence[str] = EXTRAS) -> list[str]:
    """The judge's requirements: [project] dependencies and ``extras``, from pyproject.toml."""
    project = load_toml(pyproject)["project"]
    optional = project.get("optional-dependencies", {})
    return [
        *project.get("dependencies", []),
        *(item for extra in extras for item in optional[extra]),
    ]


def judge_files(root: Path) -> Iterator[tuple[str, Path]]:
    """The judge's files under ``root`` as (name in the zip, path), in a stable order:
    ``pyproject.toml`` and every file of the folders of :data:`JUDGE`, caches left out."""
    yield "pyproject.toml", root / "pyproject.toml"
    for folder in JUDGE:
        for path in sorted((root / folder).rglob("*")):
            relative = path.relative_to(root)
            hidden = any(part.startswith(".") or part == "__pycache__" for part in relative.parts)
            if path.is_file() and not hidden and path.suffix != ".pyc":
                yield relative.as_posix(), path


def _add(archive: zipfile.ZipFile, name: str, text: str, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))  # reproducible zips
    mode = 0o755 if executable else 0o644
    info.external_attr = (stat.S_IFREG | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, text)


def build(output: Path, *, root: Path = REPOSITORY, exercises: Sequence[str] = ()) -> list[str]:
    """Write the autograder zip to ``output``; return the names it holds.

    Args:
        output: the zip to write (its folder must exist).
        root: the kata's repository.
        exercises: the ids this assignment grades (default: every exercise).

    Raises:
        ValueError: if an id is not an exercise of the curriculum.
    """
    from kata.generate import read_reference, stubs

    selected = [exercise(exercise_id).id for exercise_id in exercises]
    names = []
    with zipfile.ZipFile(output, "w") as archive:
        _add(archive, "setup.sh", SETUP_SH, executable=True)
        _add(archive, "run_autograder", RUN_AUTOGRADER, executable=True)
        _add(archive, "requirements.txt", "\n".join(requirements(root / "pyproject.toml")) + "\n")
        if selected:
            _add(archive, EXERCISES_FILE, "\n".join(selected) + "\n")
        for name, path in judge_files(root):
            _add(archive, name, path.read_text(encoding="utf-8"))
        for name, text in stubs(read_reference(root, CURRICULUM)).items():
            _add(archive, f"exercises/{name}", text)
        names = archive.namelist()
    return names


def submitted_modules(submission: Path) -> tuple[dict[str, Path], list[str]]:
    """The exercise modules of a submission (``exercises/*.py`` if that folder exists, else the
    top-level ``*.py``) as module name -> path, and the names of the ``.py`` files ignored."""
    folder = submission / "exercises"
    files = sorted((folder if folder.is_dir() else submission).glob("*.py"))
    known = set(exercise_modules())
    modules = {path.stem: path for path in files if path.stem in known}
    ignored = [path.name for path in files if path.stem not in known and path.name != "__init__.py"]
    return modules, ignored


def grade_command(ids: Sequence[str], impl_dir: Path, results: Path) -> list[str]:
    """The grader's command line for ``ids`` of the package ``impl_dir/exercises``."""
    command = [sys.executable, "-m", "kata.grade", *ids]
    return [*command, "--impl-dir", str(impl_dir), "--results", str(results)]


def outcome_lines(entry: dict[str, Any]) -> list[str]:
    """One line per test of an exercise entry: its outcome and name."""
    return [f"{test.get('outcome', '?'):>8}  {test.get('name', '?')}" for test in entry["tests"]]


def convert(results: dict[str, Any], *, execution_time: float | None = None) -> dict[str, Any]:
    """Gradescope's results.json from the grader's results (``kata.grade --results``).

    One test per exercise, in curriculum order: ``score`` its points when done (or cached),
    0 otherwise (as the grader scores it), ``max_score`` its points, ``status`` passed when
    done, ``output`` the grader's message (or, when it has none, the status and the count of
    tests passed) and the outcome of each of its tests. The top-level score is the sum.
    """
    tests: list[dict[str, Any]] = []
    for number, entry in enumerate(results["exercises"], start=1):
        done = entry["status"] in DONE_STATUSES
        tally = f"{entry['status']}: {entry.get('passed', 0)} of {entry.get('total', 0)} tests pass"
        message = entry.get("message", "").strip() or tally  # the grader's words first
        output = "\n\n".join(part for part in (message, "\n".join(outcome_lines(entry))) if part)
        tests.append(
            {
                "name": f"{entry['id']}: {entry.get('title', '')}".rstrip(": "),
                "number": str(number),
                "score": float(entry["points"]),
                "max_score": float(entry["max_points"]),
                "status": "passed" if done else "failed",
                "output": output,
                "visibility": "visible",
            }
        )
    passed = sum(test["status"] == "passed" for test in tests)
    document: dict[str, Any] = {
        "score": float(sum(test["score"] for test in tests)),
        "output": f"{passed} of {len(tests)} exercises done.",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }
    if execution_time is not None:
        document["execution_time"] = round(execution_time, 1)
    return document


def failure(selected: Sequence[Exercise], reason: str, *, execution_time: float) -> dict[str, Any]:
    """results.json for a grade that wrote no results: every exercise at 0, with ``reason``."""
    tests = [
        {
            "name": f"{item.id}: {item.title}",
            "number": str(number),
            "score": 0.0,
            "max_score": points(item),
            "status": "failed",
            "output": "not graded: the grader stopped before writing its results (see above).",
            "visibility": "visible",
        }
        for number, item in enumerate(selected, start=1)
    ]
    return {
        "score": 0.0,
        "output": reason,
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "execution_time": round(execution_time, 1),
        "tests": tests,
    }


def validate(document: dict[str, Any]) -> list[str]:
    """What in ``document`` breaks Gradescope's documented results.json format (empty: valid)."""
    problems = [f"unknown field {key!r}" for key in document if key not in TOP_LEVEL_FIELDS]
    problems += [
        f"{key} is {type(value).__name__}, expected {TOP_LEVEL_FIELDS[key]}"
        for key, value in document.items()
        if key in TOP_LEVEL_FIELDS and not isinstance(value, TOP_LEVEL_FIELDS[key])
    ]
    tests = document.get("tests", [])
    if "score" not in document and not all("score" in test for test in tests):
        problems.append("no score: neither a top-level score nor one on every test")
    for key in ("visibility", "stdout_visibility"):
        if key in document and document[key] not in VISIBILITIES:
            problems.append(f"{key} {document[key]!r} is not one of {VISIBILITIES}")
    for index, test in enumerate(tests if isinstance(tests, list) else []):
        where = f"tests[{index}]"
        problems += [f"{where}: unknown field {key!r}" for key in test if key not in TEST_FIELDS]
        problems += [
            f"{where}.{key} is {type(value).__name__}, expected {TEST_FIELDS[key]}"
            for key, value in test.items()
            if key in TEST_FIELDS and not isinstance(value, TEST_FIELDS[key])
        ]
        if test.get("status", "passed") not in STATUSES:
            problems.append(f"{where}.status {test['status']!r} is not one of {STATUSES}")
        if test.get("visibility", "visible") not in VISIBILITIES:
            problems.append(
                f"{where}.visibility {test['visibility']!r} is not one of {VISIBILITIES}"
            )
        for key in ("output_format", "name_format"):
            if key in test and test[key] not in OUTPUT_FORMATS:
                problems.append(f"{where}.{key} {test[key]!r} is not one of {OUTPUT_FORMATS}")
    return problems


def assignment(source: Path) -> list[Exercise]:
    """The exercises graded: those listed in the zip's :data:`EXERCISES_FILE`, else all."""
    listed = source / EXERCISES_FILE
    if not listed.is_file():
        return list(CURRICULUM)
    return [exercise(line.strip()) for line in listed.read_text().splitlines() if line.strip()]


def run(
    root: Path,
    *,
    source: Path | None = None,
    command: GradeCommand = grade_command,
    timeout: float = GRADE_TIMEOUT_SECONDS,
) -> dict[str, Any]:
    """Grade ``root/submission`` and write ``root/results/results.json``; return the document.

    Args:
        root: the autograder's directory (``/autograder`` on Gradescope).
        source: the kata (default ``root/source``, where Gradescope unpacks the zip).
        command: builds the grader's command line (ids, implementation folder, results file).
        timeout: seconds the grade may take before it is stopped and reported.
    """
    source = source or root / "source"
    started = time.perf_counter()
    selected = assignment(source)
    modules, ignored = submitted_modules(root / "submission")
    notes = [f"graded files: {', '.join(sorted(f'{m}.py' for m in modules)) or 'none'}"]
    if ignored:
        notes.append(f"ignored (not an exercise module): {', '.join(ignored)}")
    with tempfile.TemporaryDirectory(prefix="kata-gradescope-") as directory:
        work = Path(directory)
        shutil.copytree(source / "exercises", work / "exercises")
        for module, path in modules.items():
            shutil.copyfile(path, work / "exercises" / f"{module}.py")
        results = work / "results.json"
        ids = [item.id for item in selected] if len(selected) < len(CURRICULUM) else []
        output, returncode = run_with_limit(
            command(ids, work, results), cwd=source, timeout=timeout
        )
        print(output, flush=True)  # /autograder/results/stdout: the instructor's view
        if returncode is None:
            status = f"stopped after the time limit of {timeout:g} s"
            notes.insert(0, f"The grade was {status}: exercises not graded by then score 0.")
        else:
            status = f"exit status {returncode}"
        try:
            graded = json.loads(results.read_text(encoding="utf-8"))
            document = convert(graded, execution_time=time.perf_counter() - started)
        except (OSError, ValueError, KeyError, TypeError) as error:
            tail = "\n".join(output.strip().splitlines()[-20:])
            reason = (
                f"The grader wrote no results ({status}; {type(error).__name__}: {error}). "
                f"Its last lines:\n{tail}"
            )
            document = failure(selected, reason, execution_time=time.perf_counter() - started)
    document["output"] = "\n".join([document["output"], *notes])
    problems = validate(document)
    if problems:  # a defect of this module, never of the submission
        raise ValueError("results.json would not be valid: " + "; ".join(problems))
    destination = root / "results" / "results.json"
    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = destination.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(document, indent=2), encoding="utf-8")
    os.replace(temporary, destination)
    return document


def run_with_limit(command: Sequence[str], *, cwd: Path, timeout: float) -> tuple[str, int | None]:
    """Run ``command`` for at most ``timeout`` seconds; return its output (stdout and stderr)
    and its exit status, None when it was stopped at the limit.

    It runs in a session of its own. At the limit it gets SIGINT, as Ctrl-C would send (the
    grader then stops its own pytest child), and SIGKILL after :data:`STOP_GRACE_SECONDS`.
    """
    process = subprocess.Popen(
        command,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=timeout)
        return output, process.returncode
    except subprocess.TimeoutExpired:
        _signal_group(process, signal.SIGINT)
        try:
            output, _ = process.communicate(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            output, _ = process.communicate()
        return output, None


def _signal_group(process: subprocess.Popen[str], signal_number: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # already ended
        os.killpg(process.pid, signal_number)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kata.gradescope", description="Gradescope autograder: build, run."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("build", help="write the autograder zip")
    make.add_argument(
        "--output",
        type=Path,
        default=Path("dist", "gradescope-autograder.zip"),
        help="the zip to write (default: dist/gradescope-autograder.zip, ignored by git)",
    )
    make.add_argument("--exercises", nargs="+", default=[], help="grade only these exercises")
    grade = commands.add_parser("run", help="grade ROOT/submission into ROOT/results")
    grade.add_argument("--root", type=Path, default=Path("/autograder"))
    grade.add_argument("--timeout", type=float, default=GRADE_TIMEOUT_SECONDS)
    arguments = parser.parse_args(argv)
    if arguments.command == "build":
        if arguments.output.parent == Path("dist"):
            arguments.output.parent.mkdir(exist_ok=True)
        if not arguments.output.parent.is_dir():
            parser.error(f"--output {arguments.output}: the folder does not exist")
        try:
            names = build(arguments.output, exercises=arguments.exercises)
        except ValueError as error:
            parser.error(str(error))
        graded = ", ".join(arguments.exercises) or "every exercise"
        print(f"wrote {arguments.output}: {len(names)} files, grading {graded}")
        return 0
    document = run(arguments.root, timeout=arguments.timeout)
    print(f"results.json written: score {document['score']:g}; {document['output']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
