"""The grader: your progress through the curriculum, and what to do next.

Run by ``nox`` (the default session)::

    python -m kata.grade                 # every exercise: table, next exercise, first failing check
    python -m kata.grade linear conv     # only these exercises, with all their failing checks
    python -m kata.grade linear --full   # ... with every message whole
    python -m kata.grade --verbose       # the same, with pytest's whole output
    python -m kata.grade --retrain       # train the capstones even when nothing changed
    python -m kata.grade --results r.json --junit r.xml   # results for CI (exit 1 unless done)
    python -m kata.grade --strict        # exit 1 unless every graded exercise is done
    python -m kata.grade --expect-stubs-fail --impl-dir DIR   # the project's own check

It runs the suite against ``exercises/`` in a pytest child process (its own process group)
with the plugin :mod:`kata.pytest_plugin`, which streams each test's start and result to a
report file; then it prints a table in curriculum order. An exercise is *done* when all its
tests pass (*cached* when that result was reused, see below), *not started* when every test
fails on a stub (``NotImplementedError``), *in progress* otherwise.

Never stuck: every test has a time limit (:data:`kata.pytest_plugin.TIME_LIMITS`, scaled by
``--time-limit-scale``), and a test that hits it is reported with the learner function it was
in. When learner code ends the child process (``os._exit``, a segfault), the test that was
running is recorded as *crashed*, with what ended it and where, and pytest runs again on the
tests not yet graded. The other tests of an exercise stopped that way are skipped: it cannot
be done, and each of them would wait as long. Ctrl-C ends the child's process group and says
which exercise and test were running.

Capstones (``Exercise.capstone``) are graded after the other exercises, and only when the
exercises they require (``Exercise.requires``) are done; otherwise the table says *blocked*
and the message names them. Their result is cached in ``.kata/capstones.json``, keyed by the
content of every file they depend on, so an unchanged capstone is not retrained.

State kept in ``.kata/`` beside the graded package (ignored by git): the last status of each
exercise (so a focused grade that turns done can name the next exercise) and how many grades
in a row each check has failed (after three, the output ends with the hint command).

``--expect-stubs-fail`` judges the suite instead of the learner: against pristine stubs every
exercise test must fail (a test that passes on a stub checks nothing), and every exercise of the
curriculum must have tests.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kata.curriculum import CURRICULUM, EXERCISE_IDS, Exercise, exercise
from kata.limits import STATE_DIRECTORY, hard_limit, timeout_message
from kata.paths import REPOSITORY
from kata.stacks import crash_message, how_it_ended, relative_to, where_in

DONE, CACHED, IN_PROGRESS, NOT_STARTED = "done", "cached", "in progress", "not started"
NO_TESTS, BLOCKED, ERROR = "no tests", "blocked", "error"
FINISHED = (DONE, CACHED)
PYTEST_NORMAL_EXITS = (0, 1, 5)  # all passed, some failed, none collected
WATCHDOG_SLACK = 10.0  # seconds past a test's hard limit before the grader ends the child
EXIT_GRACE = 10.0  # seconds the child may take to exit once pytest's session has finished
STREAK_FOR_HINT = 3  # grades in a row a check fails before the hint command is shown
RESULTS_SCHEMA = 1
COMPUTED_MARK = re.compile(r"mark\.exercise\((?![\"'])")  # an id that is not a literal


@dataclass(frozen=True)
class Record:
    """One test's result, as streamed by :mod:`kata.pytest_plugin` (or made by the grader
    for a test whose process died)."""

    nodeid: str
    exercise: str | None
    outcome: str  # "passed", "failed", "timeout", "crashed" or "skipped"
    message: str = ""
    not_implemented: bool = False
    cached: bool = False


@dataclass(frozen=True)
class Progress:
    """Where the learner stands on one exercise."""

    exercise: Exercise
    status: str
    passed: int
    total: int
    problems: tuple[Record, ...]  # the tests that did not pass, failures first
    records: tuple[Record, ...] = ()
    note: str = ""  # why a blocked exercise did not run, or what stopped the grade

    @property
    def done(self) -> bool:
        return self.status in FINISHED


def status_of(records: Sequence[Record]) -> str:
    """done (cached when reused): every test passes; not started: every test hits a stub;
    in progress otherwise."""
    if not records:
        return NO_TESTS
    if all(record.outcome == "passed" for record in records):
        return CACHED if any(record.cached for record in records) else DONE
    if all(record.outcome == "failed" and record.not_implemented for record in records):
        return NOT_STARTED
    return IN_PROGRESS


FAILED_OUTCOMES = ("failed", "timeout", "crashed")


def progress(curriculum: Sequence[Exercise], records: Sequence[Record]) -> list[Progress]:
    """The progress on each exercise of ``curriculum``, in its order."""
    result = []
    for item in curriculum:
        own = [record for record in records if record.exercise == item.id]
        failed = [record for record in own if record.outcome in FAILED_OUTCOMES]
        skipped = [record for record in own if record.outcome == "skipped"]
        passed = sum(record.outcome == "passed" for record in own)
        result.append(
            Progress(item, status_of(own), passed, len(own), (*failed, *skipped), tuple(own))
        )
    return result


def blocked(item: Exercise, missing: Sequence[str]) -> Progress:
    """The row of a capstone not graded because the exercises ``missing`` are not done."""
    note = (
        f"{item.id} trains a network made of your code: first finish "
        f"{', '.join(missing)} (python -m kata.grade {' '.join(missing)})."
    )
    return Progress(item, BLOCKED, 0, 0, (), (), note)


def render_table(rows: Sequence[Progress]) -> str:
    """The progress table: one line per exercise, in curriculum order."""
    lines = [("exercise", "title", "status", "tests")]
    lines += [
        (
            row.exercise.id,
            row.exercise.title,
            row.status,
            f"{row.passed}/{row.total}" if row.status != BLOCKED else "-",
        )
        for row in rows
    ]
    id_width, title_width = (max(len(line[column]) for line in lines) for column in (0, 1))
    return "\n".join(
        f"{name:<{id_width}}  {title:<{title_width}}  {status:<11}  {tests}"
        for name, title, status, tests in lines
    )


def next_exercise(rows: Sequence[Progress]) -> Progress | None:
    """The exercise to work on: the first one, in curriculum order, that is not done."""
    return next((row for row in rows if not row.done), None)


def trim(message: str, max_lines: int = 20, max_width: int = 100, more: str = "") -> str:
    """Lines longer than ``max_width`` wrapped (never cut: the end of a hint is often the
    point), then at most ``max_lines`` lines, saying how many were left out and, with
    ``more``, the command that shows them."""
    lines = []
    for line in message.strip().splitlines():
        indent = line[: len(line) - len(line.lstrip())]
        wrapped = textwrap.wrap(
            line, max_width, subsequent_indent=indent + "  ", break_on_hyphens=False
        )
        lines.extend(wrapped or [""])
    if len(lines) > max_lines:
        cut = len(lines) - max_lines + 1
        shown = f": {more}" if more else ""
        lines = [*lines[: max_lines - 1], f"... ({cut} more lines{shown})"]
    return "\n".join(lines)


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def run_alone(nodeid: str, impl_dir: str | None = None) -> str:
    """The command that re-runs one check against the code the grader judged."""
    where = f" --impl-dir {impl_dir}" if impl_dir else ""
    return f'Run it alone: python -m pytest "{nodeid}" --impl exercises{where}'


def _full_command(exercise_id: str, impl_dir: str | None) -> str:
    where = f" --impl-dir {impl_dir}" if impl_dir else ""
    return f"python -m kata.grade {exercise_id} --full{where}"


def describe_next(
    row: Progress | None, total: int, impl_dir: str | None = None, *, full: bool = False
) -> str:
    """The next exercise, its file and functions, and its first failing check in a few lines."""
    if row is None:
        return f"All {total} exercises done. Well done: compare with solutions/ if you like."
    item = row.exercise
    lines = [f"Next: {item.id}: implement {', '.join(item.implement)} in {item.path}"]
    if row.status == NO_TESTS:
        lines.append("  (this exercise has no tests yet)")
        return "\n".join(lines)
    if row.status == BLOCKED:
        lines.append(f"  {row.note}")
        return "\n".join(lines)
    first = row.problems[0]
    verb = "skipped" if first.outcome == "skipped" else "failing"
    lines.append(f"First {verb} check: {first.nodeid}")
    text = first.message or first.outcome
    more = _full_command(item.id, impl_dir)
    lines.append(_indent(text if full else trim(text, more=more)))
    lines.append(run_alone(first.nodeid, impl_dir))
    return "\n".join(lines)


def describe_problems(
    row: Progress, max_lines: int = 8, *, impl_dir: str | None = None, full: bool = False
) -> str:
    """Every check of an exercise that did not pass, briefly; repeated messages once."""
    if row.status == BLOCKED:
        return f"{row.exercise.id}: blocked. {row.note}"
    if not row.problems:
        return f"{row.exercise.id}: {row.status}, {row.passed}/{row.total} tests pass."
    lines = [f"{row.exercise.id}: {len(row.problems)} of {row.total} checks do not pass"]
    groups: dict[str, list[Record]] = {}
    for record in row.problems:
        groups.setdefault(record.message or record.outcome, []).append(record)
    more = _full_command(row.exercise.id, impl_dir)
    for message, group in groups.items():
        others = f" (and {len(group) - 1} more with the same message)" if len(group) > 1 else ""
        verb = {"skipped": "SKIPPED", "timeout": "TIMEOUT", "crashed": "CRASHED"}.get(
            group[0].outcome, "FAILED"
        )
        lines.append(f"  {verb} {group[0].nodeid}{others}")
        text = message if full else trim(message, max_lines=max_lines, more=more)
        lines.append(_indent(text, "      "))
    first = next((r for r in row.problems if r.outcome != "skipped"), row.problems[0])
    lines.append(run_alone(first.nodeid, impl_dir))
    return "\n".join(lines)


def summary(
    rows: Sequence[Progress],
    *,
    all_exercises: bool,
    impl_dir: str | None = None,
    full: bool = False,
    known: dict[str, str] | None = None,
) -> str:
    """The whole report: table, count, then the next exercise or the selected ones' problems.

    ``known``: the last status of every exercise (from earlier grades), so that a focused
    grade whose exercises are all done can name the next one.
    """
    done = sum(row.done for row in rows)
    parts = [render_table(rows), f"{done} of {len(rows)} exercises done."]
    if all_exercises:
        parts.append(describe_next(next_exercise(rows), len(rows), impl_dir, full=full))
        return "\n\n".join(parts)
    parts.extend(
        describe_problems(row, impl_dir=impl_dir, full=full) for row in rows if not row.done
    )
    if rows and all(row.done for row in rows):
        parts.append(after_focused(rows, known or {}))
    return "\n\n".join(parts)


def after_focused(rows: Sequence[Progress], known: dict[str, str]) -> str:
    """What comes after a focused grade whose exercises are all done: the next exercise of the
    curriculum not known to be done, or the whole grade to confirm."""
    graded = {row.exercise.id for row in rows}
    last = max(EXERCISE_IDS.index(exercise_id) for exercise_id in graded)
    candidates = [item for item in CURRICULUM[last + 1 :] if known.get(item.id) not in FINISHED]
    candidates += [
        item
        for item in CURRICULUM[:last]
        if item.id not in graded and known.get(item.id) not in FINISHED
    ]
    names = ", ".join(sorted(graded, key=EXERCISE_IDS.index))
    if not candidates:
        return f"{names}: done. Every exercise is done: run python -m kata.grade to confirm."
    item = candidates[0]
    return (
        f"{names}: done. Next: {item.id}: implement {', '.join(item.implement)} in "
        f"{item.path} (python -m kata.grade {item.id})"
    )


def stub_defects(curriculum: Sequence[Exercise], records: Sequence[Record]) -> list[str]:
    """What is wrong with the suite when run against pristine stubs (empty when all is well)."""
    defects = [
        f"PASSED on the stubs: {record.nodeid} (exercise {record.exercise}): "
        "a test that passes on a stub checks nothing"
        for record in records
        if record.exercise is not None and record.outcome == "passed"
    ]
    defects += [
        f"{record.outcome.upper()} on the stubs: {record.nodeid}: {record.message}"
        for record in records
        if record.outcome in ("timeout", "crashed")
    ]
    tested = {record.exercise for record in records}
    defects += [
        f"no test: exercise {item.id!r} of the curriculum has no test marked "
        f'pytest.mark.exercise("{item.id}")'
        for item in curriculum
        if item.id not in tested
    ]
    return defects


# ---------------------------------------------------------------------- running pytest


@dataclass(frozen=True)
class Options:
    """How pytest is run for a grade."""

    impl_dir: str | None = None
    verbose: bool = False
    time_limit_scale: float = 1.0
    retrain: bool = False
    state: Path | None = None


def files_to_collect(ids: Sequence[str], tests: Path = REPOSITORY / "tests") -> list[str]:
    """The test files that may hold tests of the exercises ``ids`` (all of ``tests/`` for none).

    A focused grade then imports only those modules: collecting the whole suite costs a second
    or more, most of a component exercise's grade. A file counts when it spells the mark
    ``exercise("<id>")`` or marks its tests with a computed id (``exercise(case.exercise)``);
    the kata's own tests (``test_kata_*``) judge no implementation. ``--exercise`` still selects
    the tests inside.
    """
    if not ids:
        return ["tests"]
    marks = [f'exercise("{exercise_id}")' for exercise_id in ids]
    files = []
    for path in sorted(tests.glob("test_*.py")):
        text = path.read_text(encoding="utf-8")
        computed = COMPUTED_MARK.search(text) is not None
        if not path.name.startswith("test_kata_") and (computed or any(m in text for m in marks)):
            files.append(str(path.relative_to(tests.parent)))
    return files or ["tests"]


def pytest_command(
    report: Path, *, ids: Sequence[str] = (), options: Options | None = None
) -> list[str]:
    """The pytest command line that grades ``exercises/`` and streams results to ``report``."""
    options = options or Options()
    command = [sys.executable, "-m", "pytest", *files_to_collect(ids), "--impl", "exercises"]
    command += ["-p", "kata.pytest_plugin", "--kata-report", str(report)]
    command += ["-p", "no:cacheprovider", "-o", "addopts="]  # -ra would list failures again
    if options.verbose:
        command += ["-v", "--tb=short", "-ra"]
    else:
        command += ["-q", "--tb=no", "-rN", "--disable-warnings"]
    if options.time_limit_scale != 1.0:
        command += ["--time-limit-scale", f"{options.time_limit_scale:g}"]
    if options.retrain:
        command.append("--retrain")
    if options.state is not None:
        command += ["--kata-state", str(options.state)]
    if options.impl_dir is not None:
        command += ["--impl-dir", options.impl_dir]
    for exercise_id in ids:
        command += ["--exercise", exercise_id]
    return command


class PytestCrashError(Exception):
    """pytest stopped before running the tests (a collection or usage error), or its exit
    status disagrees with the results it reported: then there is no grade to give."""


class GradeInterruptedError(Exception):
    """Ctrl-C (or SIGTERM) during a grade; says where it was."""

    def __init__(self, running: dict[str, Any] | None) -> None:
        if running is None:
            where = "between two tests"
        else:
            where = f"in exercise {running.get('exercise')}, test {running['nodeid']}"
        super().__init__(f"grading interrupted {where}")


@dataclass
class _Child:
    """What one pytest child process streamed."""

    results: list[dict[str, Any]] = field(default_factory=list)
    running: dict[str, Any] | None = None  # the test started and not finished
    returncode: int = 0
    killed_by_watchdog: bool = False
    finished_at: float | None = None  # when the child reported the end of its session
    exitstatus: int = 1  # pytest's, as reported at the end of its session
    started_at: float = 0.0  # when the running test was seen starting

    def follow(self, stream: Any) -> None:
        """Read the events appended to the report since the last call."""
        for line in _complete_lines(stream):
            event = json.loads(line)
            if event.get("event") == "started":
                self.running, self.started_at = event, time.monotonic()
            elif event.get("event") == "result":
                self.results.append(event)
                self.running = None
            elif event.get("event") == "finished":
                self.finished_at = time.monotonic()
                self.exitstatus = int(event.get("exitstatus", 1))


def run_tests(
    command: Sequence[str], report: Path, cwd: Path = REPOSITORY, impl_root: Path | None = None
) -> list[Record]:
    """Run the pytest ``command`` (its output goes to the terminal) and return its records.

    When the child dies in a test (or is ended at that test's hard time limit), the test is
    recorded as crashed (or timeout) with what the child left in ``<report>.stuck``, its
    exercise's remaining tests are skipped, and pytest runs again on the tests not yet
    recorded. When pytest itself fails (a collection error), the collection is run again
    with short tracebacks and its output is the :class:`PytestCrashError`'s message.
    """
    root = impl_root or cwd / "exercises"
    records: dict[str, Record] = {}
    stopped: dict[str, str] = {}
    skip = report.with_name(report.name + ".skip.json")
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(_python_path())}
    while True:
        skip.write_text(json.dumps({"done": list(records), "stopped": stopped}), encoding="utf-8")
        report.write_text("", encoding="utf-8")
        child = _run_child([*command, "--kata-skip", str(skip)], report, cwd, environment)
        for result in child.results:
            records[result["nodeid"]] = _record(result)
        if child.running is None:
            if child.returncode not in PYTEST_NORMAL_EXITS:
                raise PytestCrashError(_collection_report(command, cwd, environment, child))
            disagreement = _disagreement(child)
            if disagreement:
                raise PytestCrashError(disagreement)
            return list(records.values())
        record = _died(child, report, root)
        records[record.nodeid] = record
        if record.exercise is not None:
            what = "hit its time limit" if record.outcome == "timeout" else "ended the process"
            stopped[record.exercise] = f"not run: {record.nodeid} {what}"


def _disagreement(child: _Child) -> str:
    """Why the results streamed by a pytest child cannot be its results, or "": its exit status
    (which nothing in the child's files can change) says whether a test failed, and so must the
    results. Only a process that rewrote the results file makes them disagree."""
    failed = any(r.get("outcome") in FAILED_OUTCOMES for r in child.results)
    if (child.returncode == 1) == failed or child.returncode == 5:
        return ""
    said = "some tests failed" if child.returncode == 1 else "every test passed"
    shown = "none did" if child.returncode == 1 else "some did not"
    return (
        f"kata.grade: no grade: pytest's exit status {child.returncode} says {said}, but the "
        f"results it streamed say {shown}.\n"
        "Something rewrote the results while the tests ran; run the grade again, and look for "
        "code in the exercises that writes files."
    )


def _record(result: dict[str, Any]) -> Record:
    return Record(
        nodeid=result["nodeid"],
        exercise=result.get("exercise"),
        outcome=result.get("outcome", "failed"),
        message=result.get("message", ""),
        not_implemented=bool(result.get("not_implemented")),
        cached=bool(result.get("cached")),
    )


def _run_child(
    command: Sequence[str], report: Path, cwd: Path, environment: dict[str, str]
) -> _Child:
    """Run pytest in its own process group, following its report as it streams."""
    child = _Child()
    process = subprocess.Popen(command, cwd=cwd, env=environment, start_new_session=True)
    with report.open(encoding="utf-8") as stream:
        try:
            while True:
                try:
                    child.returncode = process.wait(timeout=0.2)
                    finished = True
                except subprocess.TimeoutExpired:
                    finished = False
                child.follow(stream)
                if finished:
                    return child
                if child.finished_at and time.monotonic() - child.finished_at > EXIT_GRACE:
                    _end_group(process)  # pytest is done, something of the learner's lingers
                    process.wait()
                    child.returncode = child.exitstatus
                    return child
                if child.running is not None:
                    deadline = hard_limit(float(child.running["limit"])) + WATCHDOG_SLACK
                    if time.monotonic() - child.started_at > deadline:
                        _end_group(process)
                        child.returncode = process.wait()
                        child.killed_by_watchdog = True
                        return child
        except KeyboardInterrupt:
            with contextlib.suppress(ValueError, OSError):
                child.follow(stream)  # what it streamed since the last look says where it was
            _end_group(process)
            raise GradeInterruptedError(child.running) from None


def _complete_lines(stream: Any) -> Iterator[str]:
    """The complete lines appended to ``stream`` since the last call (a partial last line
    is left for the next call)."""
    while True:
        position = stream.tell()
        line = stream.readline()
        if not line:
            return
        if not line.endswith("\n"):
            stream.seek(position)
            return
        if line.strip():
            yield line


def _end_group(process: subprocess.Popen[bytes]) -> None:
    """End the child's process group: SIGTERM, then SIGKILL after two seconds."""
    for sig, wait in ((signal.SIGTERM, 2.0), (getattr(signal, "SIGKILL", signal.SIGTERM), 5.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
            if hasattr(os, "killpg"):
                os.killpg(process.pid, sig)
            else:
                process.send_signal(sig)
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _died(child: _Child, report: Path, impl_root: Path) -> Record:
    """The record of the test that was running when the child died."""
    running = child.running
    assert running is not None
    stuck_file = report.with_name(report.name + ".stuck")
    stuck = stuck_file.read_text(encoding="utf-8", errors="replace") if stuck_file.exists() else ""
    where = where_in(stuck, impl_root)
    limit = float(running["limit"])
    scale = float(running.get("scale", 1.0))
    exercise_id = running.get("exercise")
    if child.killed_by_watchdog or stuck.startswith("Timeout"):
        message = timeout_message(limit, where or "code that did not return to Python", scale)
        message += f"\n(The process was ended {hard_limit(limit):g} s in.)"
        return Record(running["nodeid"], exercise_id, "timeout", message)
    how = how_it_ended(stuck, child.returncode)
    file = exercise(exercise_id).path if exercise_id in EXERCISE_IDS else "the code under test"
    place = where or f"{file} or a module it imports"
    return Record(running["nodeid"], exercise_id, "crashed", crash_message(how, place))


def _collection_report(
    command: Sequence[str], cwd: Path, environment: dict[str, str], child: _Child
) -> str:
    rerun = [*command, "--collect-only", "--tb=short", "-rfE"]
    collection = subprocess.run(
        rerun, cwd=cwd, env=environment, check=False, capture_output=True, text=True
    )
    return (
        f"pytest could not run the tests (exit code {child.returncode}):\n"
        f"{collection.stdout}{collection.stderr}"
    )


def _python_path() -> list[str]:
    existing = os.environ.get("PYTHONPATH", "")
    return [str(REPOSITORY), *(entry for entry in existing.split(os.pathsep) if entry)]


# ------------------------------------------------------------------------------- grading


def plan(ids: Sequence[str]) -> tuple[list[str], list[Exercise]]:
    """The exercises graded first (the selected components and the prerequisites of the
    selected capstones) and the capstones graded after them, in curriculum order."""
    selected = [exercise(i) for i in ids] if ids else list(CURRICULUM)
    capstones = [item for item in selected if item.capstone]
    first = {item.id for item in selected if not item.capstone}
    first |= {required for item in capstones for required in item.requires}
    return [i for i in EXERCISE_IDS if i in first], capstones


def grade(
    ids: Sequence[str],
    *,
    options: Options,
    expect_stubs_fail: bool = False,
    directory: Path,
) -> tuple[list[Record], dict[str, list[str]]]:
    """Run the tests of the exercises ``ids`` (all when empty): the records, and for each
    capstone not graded, the exercises it requires that are not done."""
    impl_root = Path(options.impl_dir or REPOSITORY) / "exercises"
    report = directory / "results.jsonl"
    if expect_stubs_fail:
        print(f"Running every exercise test against the stubs in {options.impl_dir} ...")
        return run_tests(pytest_command(report, ids=ids, options=options), report, REPOSITORY), {}
    first, capstones = plan(ids)
    what = ", ".join(ids) if ids else "every exercise"
    extra = [i for i in first if ids and i not in ids]
    before = f" (first the exercises it requires: {', '.join(extra)})" if extra else ""
    print(f"Grading {what} in {relative_to(impl_root, REPOSITORY)}/{before} ...", flush=True)
    records = []
    if first:
        command = pytest_command(report, ids=first, options=options)
        records = run_tests(command, report, REPOSITORY, impl_root)
    statuses = {row.exercise.id: row.status for row in progress(CURRICULUM, records)}
    missing = {
        item.id: [r for r in item.requires if statuses.get(r) not in FINISHED] for item in capstones
    }
    ready = [item.id for item in capstones if not missing[item.id]]
    if ready:
        print(f"\nCapstones: {', '.join(ready)} (their prerequisites are done) ...", flush=True)
        command = pytest_command(report, ids=ready, options=options)
        records += run_tests(command, report, REPOSITORY, impl_root)
    return records, {name: need for name, need in missing.items() if need}


# ---------------------------------------------------------------------------- the state


def load_state(directory: Path) -> dict[str, Any]:
    """The grader's state (``grades.json``): last statuses and failure streaks."""
    try:
        data = json.loads((directory / "grades.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"status": {}, "streaks": {}}
    if not isinstance(data, dict):
        return {"status": {}, "streaks": {}}
    return {"status": dict(data.get("status", {})), "streaks": dict(data.get("streaks", {}))}


def update_state(state: dict[str, Any], rows: Sequence[Progress]) -> dict[str, Any]:
    """The state after this grade: the graded exercises' statuses, and each check's count of
    grades in a row it failed with learner code running (not on a stub), reset on a pass."""
    status = dict(state["status"])
    streaks = {k: int(v) for k, v in state["streaks"].items()}
    for row in rows:
        if row.status == BLOCKED:
            continue
        status[row.exercise.id] = row.status
        for record in row.records:
            if record.outcome in FAILED_OUTCOMES and not record.not_implemented:
                streaks[record.nodeid] = streaks.get(record.nodeid, 0) + 1
            elif record.outcome != "skipped":
                streaks.pop(record.nodeid, None)
    return {"status": status, "streaks": streaks}


def save_state(directory: Path, state: dict[str, Any]) -> None:
    """Write ``grades.json`` atomically; a folder that cannot be written only loses it."""
    with contextlib.suppress(OSError):
        directory.mkdir(parents=True, exist_ok=True)
        _write_atomically(directory / "grades.json", json.dumps(state, indent=1, sort_keys=True))


def hint_pointer(rows: Sequence[Progress], streaks: dict[str, int]) -> str:
    """After ``STREAK_FOR_HINT`` failing grades in a row of one check, the hint command."""
    for row in rows:
        for record in row.problems:
            count = streaks.get(record.nodeid, 0)
            if record.outcome in FAILED_OUTCOMES and count >= STREAK_FOR_HINT:
                return (
                    f"{record.nodeid} has failed {count} grades in a row. "
                    f"For a hint: nox -s hint -- {row.exercise.id}"
                )
    return ""


# ------------------------------------------------------------------------- results files

RESULT_STATUS = {
    DONE: "done",
    CACHED: "cached",
    IN_PROGRESS: "failing",
    NOT_STARTED: "not started",
    BLOCKED: "blocked",
    NO_TESTS: "error",
    ERROR: "error",
}


def results(
    rows: Sequence[Progress], *, impl_dir: str | None = None, error: str = ""
) -> dict[str, Any]:
    """The results of a grade as the JSON of the results format (schema 1)."""
    exercises = []
    for row in rows:
        item = row.exercise
        if error:
            message = error
        elif row.done:
            message = f"{item.id}: {row.status}, {row.passed}/{row.total} tests pass."
        else:
            message = describe_problems(row, impl_dir=impl_dir, full=True)
        exercises.append(
            {
                "id": item.id,
                "title": item.title,
                "module": item.module,
                "status": "error" if error else RESULT_STATUS[row.status],
                "passed": row.passed,
                "failed": sum(r.outcome in FAILED_OUTCOMES for r in row.records),
                "total": row.total,
                "points": item.points if row.done and not error else 0.0,
                "max_points": item.points,
                "message": message,
                "tests": [
                    {"name": r.nodeid, "outcome": r.outcome, "message": r.message}
                    for r in row.records
                ],
            }
        )
    return {
        "schema": RESULTS_SCHEMA,
        "impl": "exercises",
        "done": sum(row.done for row in rows) if not error else 0,
        "total": len(rows),
        "score": sum(e["points"] for e in exercises),
        "max_score": sum(e["max_points"] for e in exercises),
        "exercises": exercises,
    }


def junit(data: dict[str, Any]) -> str:
    """JUnit XML of ``results(...)``: one testcase per exercise."""
    not_done = [e for e in data["exercises"] if e["status"] not in ("done", "cached")]
    suite = ElementTree.Element(
        "testsuite",
        name="kata",
        tests=str(len(data["exercises"])),
        failures=str(len(not_done)),
        errors="0",
    )
    for entry in data["exercises"]:
        case = ElementTree.SubElement(suite, "testcase", classname="kata", name=entry["id"])
        if entry["status"] not in ("done", "cached"):
            failure = ElementTree.SubElement(case, "failure", message=entry["status"])
            failure.text = entry["message"]
        ElementTree.SubElement(
            case, "system-out"
        ).text = f"{entry['points']:g} of {entry['max_points']:g} points"
    return ElementTree.tostring(suite, encoding="unicode", xml_declaration=True)


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


# ----------------------------------------------------------------------------------- main


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
    parser.add_argument("--full", action="store_true", help="show every message whole")
    parser.add_argument(
        "--retrain", action="store_true", help="train the capstones even if nothing changed"
    )
    parser.add_argument(
        "--time-limit-scale",
        type=float,
        default=1.0,
        metavar="FACTOR",
        help="multiply every test's time limit by FACTOR (default 1)",
    )
    parser.add_argument("--results", type=Path, metavar="FILE", help="write the results as JSON")
    parser.add_argument("--junit", type=Path, metavar="FILE", help="write JUnit XML results")
    parser.add_argument(
        "--expect-stubs-fail",
        action="store_true",
        help="check the suite: every exercise test must fail against the stubs in --impl-dir",
    )
    given = sys.argv[1:] if argv is None else list(argv)
    # `python -m kata.grade -- --retrain`, as nox passes it, means `--retrain`
    arguments = parser.parse_args([argument for argument in given if argument != "--"])
    if arguments.expect_stubs_fail and arguments.impl_dir is None:
        parser.error("--expect-stubs-fail needs --impl-dir DIR (the stubs from --stubs-to DIR)")
    if not arguments.time_limit_scale > 0:
        parser.error(f"--time-limit-scale must be positive, got {arguments.time_limit_scale}")
    try:
        selected = [exercise(exercise_id) for exercise_id in arguments.ids] or list(CURRICULUM)
    except ValueError as error:  # an unknown exercise id: the message lists the valid ones
        print(f"kata.grade: {error}", file=sys.stderr)
        return 2
    impl_dir = str(Path(arguments.impl_dir).resolve()) if arguments.impl_dir else None
    state_dir = Path(impl_dir or REPOSITORY) / STATE_DIRECTORY
    options = Options(
        impl_dir=impl_dir,
        verbose=arguments.verbose,
        time_limit_scale=arguments.time_limit_scale,
        retrain=arguments.retrain,
        state=state_dir,
    )
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        with tempfile.TemporaryDirectory(prefix="kata-grade-") as directory:
            records, missing = grade(
                arguments.ids,
                options=options,
                expect_stubs_fail=arguments.expect_stubs_fail,
                directory=Path(directory),
            )
    except PytestCrashError as error:
        print(f"\n{error}", file=sys.stderr)
        _write_results(arguments, progress(selected, []), impl_dir, error=str(error))
        return 2
    except GradeInterruptedError as error:
        print(f"\n{error}.", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    print()
    if arguments.expect_stubs_fail:
        return report_stub_run(selected, records)
    rows = [
        blocked(row.exercise, missing[row.exercise.id]) if row.exercise.id in missing else row
        for row in progress(selected, records)
    ]
    state = update_state(load_state(state_dir), rows)
    print(
        summary(
            rows,
            all_exercises=not arguments.ids,
            impl_dir=impl_dir,
            full=arguments.full,
            known=state["status"],
        )
    )
    pointer = hint_pointer(rows, state["streaks"])
    if pointer:
        print(f"\n{pointer}")
    save_state(state_dir, state)
    _write_results(arguments, rows, impl_dir)
    not_done = any(not row.done for row in rows)
    checked = arguments.strict or arguments.results or arguments.junit
    return 1 if checked and not_done else 0


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM ends a grade as Ctrl-C does: the child's group ended, no traceback."""
    raise KeyboardInterrupt


def _write_results(
    arguments: argparse.Namespace, rows: Sequence[Progress], impl_dir: str | None, error: str = ""
) -> None:
    if not (arguments.results or arguments.junit):
        return
    data = results(rows, impl_dir=impl_dir, error=error)
    if arguments.results:
        _write_atomically(arguments.results, json.dumps(data, indent=1) + "\n")
    if arguments.junit:
        _write_atomically(arguments.junit, junit(data) + "\n")


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
