"""Hints on demand: ``nox -s hint -- <exercise>`` prints the next hint of that exercise.

    python -m kata.hint linear           the next level (1, then 2, ... up to 4)
    python -m kata.hint linear --all     every level at once
    python -m kata.hint linear --reset   start that exercise's hints over
    python -m kata.hint --reset          start every exercise over
    python -m kata.hint                  the exercises, with the level each has reached

The levels go from a nudge to an almost-answer: 1 which quantity to write down first, 2 the
scalar or index form of the derivative, 3 the shapes that pick the vectorized product, 4 the
answer in words or math. None of them is code: the code is in ``solutions/<module>.md``.

The hints are read from the ``# HINT <level>:`` comments of the solution regions in
``reference/``, the one source the generator also writes the solution pages from: they never
drift from the code, and the command works in any checkout that can be graded (``reference/``
is there, the generated pages need not be up to date). The level reached is kept per exercise
in ``.kata/hints.json`` at the root of the checkout (ignored by git).
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

from kata.curriculum import CURRICULUM, EXERCISE_IDS, Exercise
from kata.generate import (
    HINT_LEVELS,
    GenerationError,
    exercise_hints,
    read_reference,
    write_atomically,
)
from kata.paths import REPOSITORY

STATE = REPOSITORY / ".kata" / "hints.json"
WIDTH = 96


def hints_of(exercise: Exercise, root: Path = REPOSITORY) -> dict[int, list[tuple[str, str]]]:
    """Level -> ``(qualname, text)`` of that level for ``exercise``, from ``root/reference/``."""
    [module] = read_reference(
        root, [entry for entry in CURRICULUM if entry.module == exercise.module]
    )
    return exercise_hints(module, exercise.id)


def read_state(path: Path) -> dict[str, int]:
    """Exercise id -> the last level shown; empty when the file is missing or unreadable."""
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(state, dict):
        return {}
    return {
        key: value
        for key, value in state.items()
        if key in EXERCISE_IDS and isinstance(value, int) and value in HINT_LEVELS
    }


def write_state(path: Path, state: dict[str, int]) -> None:
    write_atomically(path, json.dumps(dict(sorted(state.items())), indent=2) + "\n")


def format_level(
    exercise: Exercise, level: int, texts: Sequence[tuple[str, str]], last: int
) -> str:
    """One level of hints, one paragraph per part of the exercise, wrapped for a terminal."""
    lines = [f"{exercise.id}: hint {level} of {last}"]
    for qualname, text in texts:
        lines.append(
            textwrap.fill(
                f"{qualname}: {text}", WIDTH, initial_indent="  ", subsequent_indent="    "
            )
        )
    return "\n".join(lines)


def _next_step(exercise: Exercise, level: int, last: int) -> str:
    if level < last:
        return f"(next hint: nox -s hint -- {exercise.id})"
    return (
        f"(that was the last hint; the worked solution is solutions/{exercise.module}.md, "
        f"and nox -s hint -- {exercise.id} --reset starts over)"
    )


def run(exercise_id: str | None, *, all_levels: bool, reset: bool, state_path: Path) -> int:
    """Print what was asked and update the state file; the exit status."""
    state = read_state(state_path)
    if exercise_id is None:
        if reset:
            write_state(state_path, {})
            print("hints start over for every exercise.")
            return 0
        print("usage: nox -s hint -- <exercise> [--all | --reset]\n\nexercises:")
        for entry in CURRICULUM:
            reached = state.get(entry.id)
            print(f"  {entry.id:<24} " + (f"hint {reached} seen" if reached else "no hint yet"))
        return 0
    if exercise_id not in EXERCISE_IDS:
        print(
            f"no exercise {exercise_id!r}; the exercises are: {', '.join(EXERCISE_IDS)}",
            file=sys.stderr,
        )
        return 2
    exercise = next(entry for entry in CURRICULUM if entry.id == exercise_id)
    if reset:
        state.pop(exercise_id, None)
        write_state(state_path, state)
        print(f"{exercise_id}: hints start over at level 1.")
        return 0
    try:
        levels = {level: texts for level, texts in hints_of(exercise).items() if texts}
    except GenerationError as error:
        print("kata.hint: cannot read the hints from reference/:", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    if not levels:
        print(
            f"{exercise_id} has no hints yet; its worked solution is "
            f"solutions/{exercise.module}.md."
        )
        return 0
    last = max(levels)
    if all_levels:
        shown = list(levels)
    else:
        reached = state.get(exercise_id, 0)
        following = [level for level in levels if level > reached]
        shown = following[:1] or [last]
    print("\n\n".join(format_level(exercise, level, levels[level], last) for level in shown))
    print(_next_step(exercise, shown[-1], last))
    state[exercise_id] = max(shown[-1], state.get(exercise_id, 0))
    write_state(state_path, state)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="nox -s hint --",
        description="Print the next hint of an exercise (a nudge, the index form, the shapes, "
        "an almost-answer), remembering the level reached.",
    )
    parser.add_argument("exercise", nargs="?", help="the exercise id, e.g. linear")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--all", action="store_true", help="print every level at once")
    action.add_argument(
        "--reset", action="store_true", help="start over (every exercise when none is named)"
    )
    parser.add_argument(
        "--state", type=Path, default=STATE, help=argparse.SUPPRESS
    )  # the tests keep their own state file
    arguments = parser.parse_args(argv)
    return run(
        arguments.exercise,
        all_levels=arguments.all,
        reset=arguments.reset,
        state_path=arguments.state,
    )


if __name__ == "__main__":
    sys.exit(main())
