"""What a learner reads of a failed test: short messages, never a traceback.

The plugin :mod:`kata.pytest_plugin` records one message per test that did not pass, made here:
the assertion text, or the exception type and message and where an unexpected exception was
raised; the falsifying example hypothesis found; and whether the failure is a
``NotImplementedError`` (the test reached a stub).

Everything the kata reads of hypothesis' internals (not its public API) is in one function,
:func:`read_hypothesis`, checked against the hypothesis versions named there.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kata.sandbox import frames_of


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


def relative(filename: str) -> str:
    """``filename`` relative to the working directory when it is under it."""
    path = Path(filename)
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else filename


def short_message(error: BaseException) -> str:
    """The text a learner needs: the assertion or the exception, where it was raised, and the
    example hypothesis found (not for a stub: any example reaches it)."""
    grouped = getattr(error, "exceptions", None)  # hypothesis found several distinct failures
    if grouped:  # each in brief (what failed, and the likely mistake), so all of them show
        parts = [_in_brief(short_message(member)) for member in grouped]
        return f"{len(parts)} distinct failures:\n" + "\n".join(f"- {part}" for part in parts)
    if isinstance(error, (AssertionError, pytest.fail.Exception, pytest.skip.Exception)):
        text = _without_introspection(str(error)) or type(error).__name__
    else:
        text = f"{type(error).__name__}: {error}"
        frames = frames_of(error)  # in the worker, for the code under test
        if frames:
            text += f"\n  raised at {relative(frames[-1][0])}, line {frames[-1][1]}"
    if isinstance(error, NotImplementedError):
        return text
    return "\n".join([text, *read_hypothesis(error=error)]).strip()


def _in_brief(message: str) -> str:
    """The first line of a message and its "likely mistake" line, if it has one."""
    lines = message.splitlines()
    likely = [line for line in lines[1:] if line.startswith("likely mistake:")]
    return "\n  ".join(lines[:1] + likely[:1])


def _without_introspection(text: str) -> str:
    """An assertion's own message, without the ``assert ...`` / ``+ where ...`` lines that
    pytest appends to it: the message says what was expected, the rest is noise to a learner."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if index > 0 and line.startswith("assert "):
            return "\n".join(lines[:index]).rstrip()
    return text


def read_hypothesis(*, error: BaseException | None = None, item: Any = None) -> list[str]:
    """The one place that reads hypothesis' internals; checked against hypothesis 6.80 to
    6.155.2 (the version installed when this was last reviewed).

    - With ``error``: the falsifying examples hypothesis attached to it as notes (PEP 678
      ``__notes__`` starting with ``"Falsifying"``), without the line of the ``impl``
      argument every test receives; its other notes (the ``@reproduce_failure`` blob, which
      tells a learner to edit a test, and coverage explanations) are left out.
    - With ``item`` (a ``pytest.Item``, before hypothesis' ``pytest_runtest_makereport``
      sees it): drops the failing examples hypothesis' core stores on the item as
      ``_hypothesis_failing_examples``, from which its pytest plugin would build a patch
      (importing libcst, seconds per failing test) and print ``git apply ...``: noise for a
      learner, whose code is not the tests. Returns ``[]``.

    If a later hypothesis renames these, the grader still works: the example is missing
    from the message, or the ``git apply`` advice appears.
    """
    if item is not None and hasattr(item, "_hypothesis_failing_examples"):
        delattr(item, "_hypothesis_failing_examples")
    if error is None:
        return []
    notes = []
    for note in getattr(error, "__notes__", ()):
        if not note.startswith("Falsifying"):
            continue
        lines = [line for line in note.splitlines() if "impl=Implementation(" not in line]
        notes.append("\n".join(lines))
    return notes
