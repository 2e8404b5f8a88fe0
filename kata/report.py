"""A pytest plugin that records each test's outcome for the grader, as JSON lines.

    python -m pytest tests --impl exercises -p kata.report --kata-report results.jsonl

One record per test: its node id, its exercise (the ``exercise`` mark, None for the kata's own
tests), its outcome (``passed``, ``failed`` or ``skipped``; an error in setup or teardown counts
as ``failed``), a short message for the failures and skips (the assertion text, or the exception
type and message, and where an unexpected exception was raised; never a traceback), and whether
the failure is a ``NotImplementedError`` (the test reached a stub).
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

RECORDS = pytest.StashKey[dict[str, dict[str, Any]]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("kata").addoption(
        "--kata-report",
        metavar="PATH",
        default=None,
        help="write one JSON record per test to PATH (for python -m kata.grade)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.stash[RECORDS] = {}


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error, the errors it was raised from, and those grouped in it."""
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending.extend(getattr(current, "exceptions", ()))
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)


def is_not_implemented(error: BaseException) -> bool:
    """True when the failure comes from a stub's ``raise NotImplementedError``."""
    return any(isinstance(link, NotImplementedError) for link in _chain(error))


def _relative(filename: str) -> str:
    """``filename`` relative to the working directory when it is under it."""
    path = Path(filename)
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else filename


def short_message(error: BaseException) -> str:
    """The text a learner needs: the assertion or the exception, where it was raised, and the
    example hypothesis found (not for a stub: any example reaches it)."""
    grouped = getattr(error, "exceptions", None)  # hypothesis found several distinct failures
    if grouped:
        parts = [short_message(member) for member in grouped]
        return f"{len(parts)} distinct failures:\n" + "\n".join(f"- {part}" for part in parts)
    if isinstance(error, (AssertionError, pytest.fail.Exception, pytest.skip.Exception)):
        text = _without_introspection(str(error)) or type(error).__name__
    else:
        text = f"{type(error).__name__}: {error}"
        frames = traceback.extract_tb(error.__traceback__)
        if frames:
            text += f"\n  raised at {_relative(frames[-1].filename)}, line {frames[-1].lineno}"
    if isinstance(error, NotImplementedError):
        return text
    return "\n".join([text, *_example_notes(error)]).strip()


def _without_introspection(text: str) -> str:
    """An assertion's own message, without the ``assert ...`` / ``+ where ...`` lines that
    pytest appends to it: the message says what was expected, the rest is noise to a learner."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if index > 0 and line.startswith("assert "):
            return "\n".join(lines[:index]).rstrip()
    return text


def _example_notes(error: BaseException) -> list[str]:
    """The falsifying example hypothesis notes, without the ``impl`` argument every test
    receives (its replay instructions and coverage explanations are left out)."""
    notes = []
    for note in getattr(error, "__notes__", ()):
        if not note.startswith("Falsifying"):
            continue
        lines = [line for line in note.splitlines() if "impl=Implementation(" not in line]
        notes.append("\n".join(lines))
    return notes


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = (yield).get_result()
    records = item.config.stash[RECORDS]
    mark = item.get_closest_marker("exercise")
    record = records.setdefault(
        item.nodeid,
        {
            "nodeid": item.nodeid,
            "exercise": mark.args[0] if mark and mark.args else None,
            "outcome": "passed",
            "message": "",
            "not_implemented": False,
        },
    )
    if record["outcome"] != "passed" or report.passed or call.excinfo is None:
        return  # the first failure or skip of a test is the one that explains it
    error = call.excinfo.value
    record["outcome"] = "skipped" if report.skipped else "failed"
    record["message"] = short_message(error)
    record["not_implemented"] = report.failed and is_not_implemented(error)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # Hypothesis would write a patch adding the failing examples to the tests and print
    # `git apply ...`: noise for a learner, whose code is not the tests.
    report.__dict__.pop("_hypothesis_failing_examples", None)


def pytest_sessionfinish(session: pytest.Session) -> None:
    destination = session.config.getoption("--kata-report")
    if destination is None:
        return
    lines = [json.dumps(record) for record in session.config.stash[RECORDS].values()]
    Path(destination).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
