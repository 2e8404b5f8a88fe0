"""The grader: your progress through the curriculum, and what to do next.

Run by ``nox`` (the default session)::

    python -m kata.grade                 # every exercise: table, next exercise, first failing check
    python -m kata.grade linear conv     # only these exercises, with all their failing checks
    python -m kata.grade --verbose       # the same, with pytest's whole output
    python -m kata.grade --strict        # exit 1 unless every graded exercise is done
    python -m kata.grade --expect-stubs-fail --impl-dir DIR   # the project's own check

It runs the suite against ``exercises/`` in a pytest subprocess with the plugin
:mod:`kata.report`, which records each test's exercise, outcome and a short message; then it
prints a table in curriculum order. An exercise is *done* when all its tests pass, *not started*
when every test fails on a stub (``NotImplementedError``), *in progress* otherwise.

``--expect-stubs-fail`` judges the suite instead of the learner: against pristine stubs every
exercise test must fail (a test that passes on a stub checks nothing), and every exercise of the
curriculum must have tests.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kata.curriculum import CURRICULUM, Exercise, exercise
from kata.paths import REPOSITORY

DONE, IN_PROGRESS, NOT_STARTED, NO_TESTS = "done", "in progress", "not started", "no tests"
PYTEST_NORMAL_EXITS = (0, 1, 5)  # all passed, some failed, none collected


@dataclass(frozen=True)
class Record:
    """One test's result, as written by :mod:`kata.report`."""

    nodeid: str
    exercise: str | None
    outcome: str  # "passed", "failed" or "skipped"
    message: str = ""
    not_implemented: bool = False


@dataclass(frozen=True)
class Progress:
    """Where the learner stands on one exercise."""

    exercise: Exercise
    status: str
    passed: int
    total: int
    problems: tuple[Record, ...]  # the tests that did not pass, failures first


def status_of(records: Sequence[Record]) -> str:
    """done: every test passes; not started: every test hits a stub; in progress otherwise."""
    if not records:
        return NO_TESTS
    if all(record.outcome == "passed" for record in records):
        return DONE
    if all(record.outcome == "failed" and record.not_implemented for record in records):
        return NOT_STARTED
    return IN_PROGRESS


def progress(curriculum: Sequence[Exercise], records: Sequence[Record]) -> list[Progress]:
    """The progress on each exercise of ``curriculum``, in its order."""
    result = []
    for item in curriculum:
        own = [record for record in records if record.exercise == item.id]
        failed = [record for record in own if record.outcome == "failed"]
        skipped = [record for record in own if record.outcome == "skipped"]
        passed = sum(record.outcome == "passed" for record in own)
        result.append(Progress(item, status_of(own), passed, len(own), (*failed, *skipped)))
    return result


def render_table(rows: Sequence[Progress]) -> str:
    """The progress table: one line per exercise, in curriculum order."""
    lines = [("exercise", "title", "status", "tests")]
    lines += [
        (row.exercise.id, row.exercise.title, row.status, f"{row.passed}/{row.total}")
        for row in rows
    ]
    id_width, title_width = (max(len(line[column]) for line in lines) for column in (0, 1))
    return "\n".join(
        f"{name:<{id_width}}  {title:<{title_width}}  {status:<11}  {tests}"
        for name, title, status, tests in lines
    )


def next_exercise(rows: Sequence[Progress]) -> Progress | None:
    """The exercise to work on: the first one, in curriculum order, that is not done."""
    return next((row for row in rows if row.status != DONE), None)


def trim(message: str, max_lines: int = 20, max_width: int = 100) -> str:
    """Lines longer than ``max_width`` wrapped (never cut: the end of a hint is often the
    point), then at most ``max_lines`` lines, saying how many were left out."""
    lines = []
    for line in message.strip().splitlines():
        indent = line[: len(line) - len(line.lstrip())]
        wrapped = textwrap.wrap(
            line, max_width, subsequent_indent=indent + "  ", break_on_hyphens=False
        )
        lines.extend(wrapped or [""])
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], f"... ({len(lines) - max_lines + 1} more lines)"]
    return "\n".join(lines)


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def describe_next(row: Progress | None, total: int, impl_dir: str | None = None) -> str:
    """The next exercise, its file and functions, and its first failing check in a few lines."""
    if row is None:
        return f"All {total} exercises done. Well done: compare with solutions/ if you like."
    item = row.exercise
    lines = [f"Next: {item.id}: implement {', '.join(item.implement)} in {item.path}"]
    if row.status == NO_TESTS:
        lines.append("  (this exercise has no tests yet)")
        return "\n".join(lines)
    first = row.problems[0]
    verb = "skipped" if first.outcome == "skipped" else "failing"
    lines.append(f"First {verb} check: {first.nodeid}")
    lines.append(_indent(trim(first.message or first.outcome)))
    where = f" --impl-dir {impl_dir}" if impl_dir else ""
    lines.append(f'Run it alone: python -m pytest "{first.nodeid}" --impl exercises{where}')
    return "\n".join(lines)


def describe_problems(row: Progress, max_lines: int = 8) -> str:
    """Every check of an exercise that did not pass, briefly; repeated messages once."""
    if not row.problems:
        return f"{row.exercise.id}: {row.status}, {row.passed}/{row.total} tests pass."
    lines = [f"{row.exercise.id}: {len(row.problems)} of {row.total} checks do not pass"]
    groups: dict[str, list[Record]] = {}
    for record in row.problems:
        groups.setdefault(record.message or record.outcome, []).append(record)
    for message, group in groups.items():
        others = f" (and {len(group) - 1} more with the same message)" if len(group) > 1 else ""
        verb = "SKIPPED" if group[0].outcome == "skipped" else "FAILED"
        lines.append(f"  {verb} {group[0].nodeid}{others}")
        lines.append(_indent(trim(message, max_lines=max_lines), "      "))
    return "\n".join(lines)


def summary(rows: Sequence[Progress], *, all_exercises: bool, impl_dir: str | None = None) -> str:
    """The whole report: table, count, then the next exercise or the selected ones' problems."""
    done = sum(row.status == DONE for row in rows)
    parts = [render_table(rows), f"{done} of {len(rows)} exercises done."]
    if all_exercises:
        parts.append(describe_next(next_exercise(rows), len(rows), impl_dir))
    else:
        parts.extend(describe_problems(row) for row in rows if row.status != DONE)
    return "\n\n".join(parts)


def stub_defects(curriculum: Sequence[Exercise], records: Sequence[Record]) -> list[str]:
    """What is wrong with the suite when run against pristine stubs (empty when all is well)."""
    defects = [
        f"PASSED on the stubs: {record.nodeid} (exercise {record.exercise}): "
        "a test that passes on a stub checks nothing"
        for record in records
        if record.exercise is not None and record.outcome == "passed"
    ]
    tested = {record.exercise for record in records}
    defects += [
        f"no test: exercise {item.id!r} of the curriculum has no test marked "
        f'pytest.mark.exercise("{item.id}")'
        for item in curriculum
        if item.id not in tested
    ]
    return defects


def pytest_command(
    report: Path, *, ids: Sequence[str] = (), impl_dir: str | None = None, verbose: bool = False
) -> list[str]:
    """The pytest command line that grades ``exercises/`` and records the results in ``report``."""
    command = [sys.executable, "-m", "pytest", "tests", "--impl", "exercises"]
    command += ["-p", "kata.report", "--kata-report", str(report), "-p", "no:cacheprovider"]
    command += ["-o", "addopts="]  # the project's -ra would list every failure again
    if verbose:
        command += ["-v", "--tb=short", "-ra"]
    else:
        command += ["-q", "--tb=no", "-rN", "--disable-warnings"]
    if impl_dir is not None:
        command += ["--impl-dir", impl_dir]
    for exercise_id in ids:
        command += ["--exercise", exercise_id]
    return command


class PytestCrashError(Exception):
    """pytest stopped before running the tests (a collection or usage error)."""


def run_tests(command: Sequence[str], report: Path, cwd: Path = REPOSITORY) -> list[Record]:
    """Run the pytest ``command`` (its output goes to the terminal) and read its records.

    When pytest crashes, the crash is shown: ``--tb=no`` hides collection errors, so the
    collection is run again with short tracebacks and its output printed.
    """
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(_python_path())}
    completed = subprocess.run(command, cwd=cwd, env=environment, check=False)
    if completed.returncode not in PYTEST_NORMAL_EXITS or not report.is_file():
        rerun = [*command, "--collect-only", "--tb=short", "-rfE"]
        collection = subprocess.run(
            rerun, cwd=cwd, env=environment, check=False, capture_output=True, text=True
        )
        raise PytestCrashError(
            f"pytest could not run the tests (exit code {completed.returncode}):\n"
            f"{collection.stdout}{collection.stderr}"
        )
    lines = report.read_text(encoding="utf-8").splitlines()
    return [Record(**json.loads(line)) for line in lines if line.strip()]


def _python_path() -> list[str]:
    existing = os.environ.get("PYTHONPATH", "")
    return [str(REPOSITORY), *(entry for entry in existing.split(os.pathsep) if entry)]


def grade(
    ids: Sequence[str], *, impl_dir: str | None, verbose: bool, expect_stubs_fail: bool
) -> list[Record]:
    """Run the tests of the exercises ``ids`` (all when empty) and return their records."""
    with tempfile.TemporaryDirectory(prefix="kata-grade-") as directory:
        report = Path(directory) / "results.jsonl"
        command = pytest_command(report, ids=ids, impl_dir=impl_dir, verbose=verbose)
        if expect_stubs_fail:
            print(f"Running every exercise test against the stubs in {impl_dir} ...")
        else:
            what = ", ".join(ids) if ids else "every exercise"
            print(f"Grading {what} in exercises/ ...", flush=True)
        return run_tests(command, report)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kata.grade", description="Grade your exercises and say what to do next."
    )
    parser.add_argument("ids", nargs="*", help="grade only these exercises (default: all)")
    parser.add_argument(
        "--impl-dir", help="grade the package exercises/ found in this directory instead"
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when a graded exercise is not done"
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="show pytest's whole output")
    parser.add_argument(
        "--expect-stubs-fail",
        action="store_true",
        help="check the suite: every exercise test must fail against the stubs in --impl-dir",
    )
    arguments = parser.parse_args(argv)
    if arguments.expect_stubs_fail and arguments.impl_dir is None:
        parser.error("--expect-stubs-fail needs --impl-dir DIR (the stubs from --stubs-to DIR)")
    try:
        selected = [exercise(exercise_id) for exercise_id in arguments.ids] or list(CURRICULUM)
    except ValueError as error:  # an unknown exercise id: the message lists the valid ones
        print(f"kata.grade: {error}", file=sys.stderr)
        return 2
    impl_dir = str(Path(arguments.impl_dir).resolve()) if arguments.impl_dir else None
    try:
        records = grade(
            arguments.ids,
            impl_dir=impl_dir,
            verbose=arguments.verbose,
            expect_stubs_fail=arguments.expect_stubs_fail,
        )
    except PytestCrashError as error:
        print(f"\n{error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ngrading interrupted", file=sys.stderr)
        return 130
    print()
    if arguments.expect_stubs_fail:
        return report_stub_run(selected, records)
    rows = progress(selected, records)
    print(summary(rows, all_exercises=not arguments.ids, impl_dir=impl_dir))
    not_done = any(row.status != DONE for row in rows)
    return 1 if arguments.strict and not_done else 0


def report_stub_run(curriculum: Sequence[Exercise], records: Sequence[Record]) -> int:
    """Print the verdict of ``--expect-stubs-fail``; 1 when the suite has a defect."""
    defects = stub_defects(curriculum, records)
    for defect in defects:
        print(defect)
    if defects:
        print(f"{len(defects)} defect(s) in the suite against the pristine stubs.")
        return 1
    exercise_records = [record for record in records if record.exercise is not None]
    skipped = sum(record.outcome == "skipped" for record in exercise_records)
    failed = len(exercise_records) - skipped
    note = f" ({skipped} skipped)" if skipped else ""
    print(f"All {failed} exercise tests failed against the stubs, as they should{note}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
