"""Watch mode: regrade the exercise you are working on each time you save it.

Run by ``nox -s watch``::

    python -m kata.watch               # the first exercise not done, then whichever file you save
    python -m kata.watch linear        # start with this exercise
    python -m kata.watch --poll        # poll the files instead of waiting on file events

On every save of a file in ``exercises/``, the exercises of that module are graded (the first
one not done; all of them when all are done) and one short report is printed: the exercise's
line of the progress table, its first failing check, and, when it has just turned done, the
next exercise to work on. A grade that may train a capstone shows the grader's output live
(the capstone's progress while it trains). Before the first save, the exercise in progress is
the one named on the command line, else the first exercise of the curriculum that is not done
(one grade of the whole curriculum at start finds it).

Each grade is ``python -m kata.grade <ids> --results FILE`` in a subprocess, read back from the
results file (its format: ``kata.grade --help``): learner code that loops forever, crashes or
ends its process ends that grade, never the watcher. Saves made while a grade runs are seen by
the next wait. Files are watched through file events (the ``watchfiles`` library; it polls by
itself where the platform has no events, or when ``WATCHFILES_FORCE_POLLING=1``), and by polling
the files' modification times when ``watchfiles`` is not installed or ``--poll`` is given.
Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from kata.curriculum import CURRICULUM, Exercise, exercise

REPOSITORY = Path(__file__).resolve().parent.parent
POLL_SECONDS = 0.3  # the mtime poller's period: a save is seen within this time
EVENT_STEP_MS = 50  # watchfiles yields once no new event came for this long
DONE_STATUSES = ("done", "cached")  # a cached capstone is done: its result was reused

GradeCommand = Callable[[Sequence[str], Path], list[str]]


def grade_command(ids: Sequence[str], results: Path) -> list[str]:
    """The grader's command line: grade ``ids`` (all when empty), results as JSON in ``results``."""
    return [sys.executable, "-m", "kata.grade", *ids, "--results", str(results)]


@dataclass(frozen=True)
class Result:
    """One exercise's entry of the grader's results file (the fields watch mode shows)."""

    id: str
    title: str
    status: str
    passed: int
    total: int
    message: str

    @classmethod
    def from_json(cls, entry: dict[str, Any]) -> Result:
        """Read one element of the results file's ``exercises`` list."""
        return cls(
            id=str(entry["id"]),
            title=str(entry.get("title", "")),
            status=str(entry["status"]),
            passed=int(entry.get("passed", 0)),
            total=int(entry.get("total", 0)),
            message=str(entry.get("message", "")),
        )

    def line(self) -> str:
        """The exercise's line of the progress table."""
        return f"{self.id}  {self.title}  {self.status}  {self.passed}/{self.total}"

    @property
    def done(self) -> bool:
        """Done, or a capstone whose unchanged result was reused."""
        return self.status in DONE_STATUSES


class GradeError(Exception):
    """The grader wrote no results (it crashed, or was stopped): the message holds its output."""


def read_results(path: Path) -> list[Result]:
    """The exercises of a results file, in the order written (curriculum order).

    Raises:
        GradeError: if the file is missing, not JSON, or has no ``exercises`` list.
    """
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return [Result.from_json(entry) for entry in document["exercises"]]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise GradeError(f"the grader wrote no usable results to {path}: {error}") from error


def module_of(path: Path, exercises_dir: Path) -> str | None:
    """The exercise module a changed file is, or None (not a ``.py`` file of ``exercises_dir``)."""
    if path.suffix != ".py" or path.parent.resolve() != exercises_dir.resolve():
        return None
    return path.stem


class Watcher:
    """Grades through ``command`` and prints one short report per grade.

    Args:
        root: the repository (the grader runs there; ``root/exercises`` is watched).
        command: builds the grader's command line from the ids and the results path.
        out: where reports go (default: ``sys.stdout``).
        curriculum: the exercises, in order.
    """

    def __init__(
        self,
        root: Path = REPOSITORY,
        *,
        command: GradeCommand = grade_command,
        out: TextIO | None = None,
        curriculum: Sequence[Exercise] = CURRICULUM,
    ) -> None:
        self.root = root
        self.command = command
        self.out = out
        self.curriculum = tuple(curriculum)
        self.status: dict[str, str] = {}  # the last status seen of each exercise graded

    @property
    def exercises_dir(self) -> Path:
        return self.root / "exercises"

    def grade(self, ids: Sequence[str]) -> list[Result]:
        """Run the grader on ``ids`` (all when empty) in a subprocess and read its results.

        The grader's own output is kept out of the way, except when the grade may train a
        capstone (a grade of everything, or of a capstone): its progress then shows live.

        Raises:
            GradeError: if it wrote no results; the message ends with the grader's output.
        """
        live = self.may_train(ids)
        with tempfile.TemporaryDirectory(prefix="kata-watch-") as directory:
            results = Path(directory) / "results.json"
            completed = subprocess.run(
                self.command(ids, results),
                cwd=self.root,
                capture_output=not live,
                text=True,
                check=False,
            )
            try:
                graded = read_results(results)
            except GradeError as error:
                shown = "is above" if live else f":\n{completed.stdout}{completed.stderr}".rstrip()
                raise GradeError(
                    f"{error}\nthe grader exited with status {completed.returncode}; "
                    f"its output {shown}"
                ) from None
        for result in graded:
            self.status[result.id] = result.status
        return graded

    def may_train(self, ids: Sequence[str]) -> bool:
        """Whether grading ``ids`` (all when empty) may train a capstone on MNIST."""
        graded = [item for item in self.curriculum if not ids or item.id in ids]
        return any(getattr(item, "capstone", False) for item in graded)

    def next_not_done(self, after: str | None = None) -> Exercise | None:
        """The first exercise not known done, in curriculum order (after ``after`` if given)."""
        ids = [item.id for item in self.curriculum]
        start = ids.index(after) + 1 if after in ids else 0
        return next(
            (item for item in self.curriculum[start:] if not self.known_done(item.id)), None
        )

    def known_done(self, exercise_id: str) -> bool:
        """Whether the last grade of ``exercise_id`` found it done (False when never graded)."""
        return self.status.get(exercise_id) in DONE_STATUSES

    def targets(self, module: str) -> list[str]:
        """What a save of ``exercises/<module>.py`` grades: its first exercise not done, or
        every exercise of the module when all are done (to show whether the save broke one)."""
        own = [item.id for item in self.curriculum if item.module == module]
        not_done = [exercise_id for exercise_id in own if not self.known_done(exercise_id)]
        return not_done[:1] or own

    def start(self, exercise_id: str | None = None) -> None:
        """The first report: ``exercise_id``, or the first exercise not done of a whole grade."""
        if exercise_id is not None:
            self.report([exercise_id])
            return
        self.say("Grading every exercise to find the one in progress ...")
        try:
            results = self.grade([])
        except GradeError as error:
            self.say(str(error))
            return
        done = sum(result.done for result in results)
        self.say(f"{done} of {len(results)} exercises done.")
        current = next((result for result in results if not result.done), None)
        if current is None:
            self.say("Every exercise is done. Saves are still regraded.")
        else:
            self.show(current)

    def changed(self, paths: Iterable[Path]) -> None:
        """Regrade after a save of ``paths`` (files that are not exercise modules are ignored)."""
        modules = {module_of(path, self.exercises_dir) for path in paths} - {None}
        known = {item.module for item in self.curriculum}
        for module in sorted(module for module in modules if module in known):
            self.say(f"\n[{time.strftime('%H:%M:%S')}] exercises/{module}.py saved")
            self.report(self.targets(module))

    def report(self, ids: Sequence[str]) -> None:
        """Grade ``ids`` and print each one's line, first failing check and, if it has just
        turned done, the next exercise."""
        before = {exercise_id: self.known_done(exercise_id) for exercise_id in ids}
        started = time.perf_counter()
        try:
            results = self.grade(ids)
        except GradeError as error:
            self.say(str(error))
            return
        seconds = time.perf_counter() - started
        for result in results:
            self.show(result)
            if result.done and not before.get(result.id, False):
                self.say(self.describe_next(result.id))
        self.say(f"(graded in {seconds:.1f} s; watching exercises/ for the next save)")

    def describe_next(self, done_id: str) -> str:
        """What to do after ``done_id`` turned done."""
        following = self.next_not_done(after=done_id) or self.next_not_done()
        if following is None:
            return f"{done_id} is done, and so is every exercise. Well done."
        return (
            f"{done_id} is done. Next: {following.id}: implement "
            f"{', '.join(following.implement)} in {following.path}"
        )

    def show(self, result: Result) -> None:
        """The exercise's table line, and its first failing check unless it is done."""
        self.say(result.line())
        if not result.done and result.message.strip():
            self.say("\n".join("    " + line for line in result.message.strip().splitlines()))

    def say(self, text: str) -> None:
        print(text, file=self.out or sys.stdout, flush=True)


def poll_changes(
    directory: Path, stop: threading.Event, period: float = POLL_SECONDS
) -> Iterator[set[Path]]:
    """The ``.py`` files of ``directory`` whose modification time or size changed, or that
    appeared, since the last look; one look every ``period`` seconds until ``stop`` is set."""

    def snapshot() -> dict[Path, tuple[int, int]]:
        state = {}
        for path in directory.glob("*.py"):
            try:
                info = path.stat()
            except OSError:  # removed between the listing and the stat
                continue
            state[path] = (info.st_mtime_ns, info.st_size)
        return state

    seen = snapshot()
    while not stop.wait(period):
        current = snapshot()
        changed = {path for path, state in current.items() if seen.get(path) != state}
        seen = current
        if changed:
            yield changed


def event_changes(directory: Path, stop: threading.Event) -> Iterator[set[Path]]:
    """The files of ``directory`` added or modified, from file events (``watchfiles``)."""
    import watchfiles

    for batch in watchfiles.watch(
        directory,
        stop_event=stop,
        step=EVENT_STEP_MS,
        recursive=False,
        raise_interrupt=True,
    ):
        paths = {Path(path) for change, path in batch if change != watchfiles.Change.deleted}
        if paths:
            yield paths


def changes(
    directory: Path, stop: threading.Event, *, poll: bool = False
) -> tuple[Iterator[set[Path]], str]:
    """The stream of saves in ``directory`` and how it is watched (for the banner)."""
    if not poll:
        try:
            import watchfiles  # noqa: F401  (only whether it imports)
        except ImportError:
            pass
        else:
            return event_changes(directory, stop), "file events (watchfiles)"
    return poll_changes(directory, stop), f"polling every {POLL_SECONDS} s"


def run(watcher: Watcher, saves: Iterable[set[Path]], exercise_id: str | None = None) -> None:
    """The first report, then one per batch of ``saves``, until they end."""
    watcher.start(exercise_id)
    for paths in saves:
        watcher.changed(paths)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kata.watch",
        description="Regrade the exercise in progress on every save of a file in exercises/.",
    )
    parser.add_argument(
        "id", nargs="?", help="the exercise to start with (default: first not done)"
    )
    parser.add_argument(
        "--poll", action="store_true", help="poll modification times instead of file events"
    )
    arguments = parser.parse_args(argv)
    if arguments.id is not None:
        try:
            exercise(arguments.id)
        except ValueError as error:  # the message lists the valid ids
            print(f"kata.watch: {error}", file=sys.stderr)
            return 2
    watcher = Watcher()
    stop = threading.Event()
    saves, how = changes(watcher.exercises_dir, stop, poll=arguments.poll)
    watcher.say(f"Watching {watcher.exercises_dir} through {how}; Ctrl-C stops.")
    try:
        run(watcher, saves, arguments.id)
    except KeyboardInterrupt:
        stop.set()
        watcher.say("\nwatch stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
