"""Watch mode (kata.watch): what a save regrades and reports, with a fake grader.

The fake grader is a script that writes a results file in the grader's format, the status of
each exercise read from its file in a temporary ``exercises/``: a file holding ``<id>: done``
makes that exercise done (``<id>: cached``: done, its result reused), and ``crash`` makes the
grader exit without results. No test waits on a clock: the watchers of files are read through
a queue, with a generous timeout only as a guard against a hang.
"""

from __future__ import annotations

import io
import json
import queue
import sys
import textwrap
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from kata import watch
from kata.curriculum import Exercise

CURRICULUM = (
    Exercise("alpha", "First", "alpha", ("f",)),
    Exercise("beta", "Second", "beta", ("g",)),
    Exercise("gamma", "Third", "models", ("h",)),
    Exercise("delta", "Fourth", "models", ("k",)),
)
HANG_GUARD_SECONDS = 60.0

FAKE_GRADER = textwrap.dedent(
    """
    import json, pathlib, sys

    modules = json.loads(sys.argv[1])
    arguments = sys.argv[2:]
    results = pathlib.Path(arguments[arguments.index("--results") + 1])
    ids = arguments[: arguments.index("--results")] or list(modules)
    print("the grader's own output for", " ".join(ids))
    log = pathlib.Path("graded.log")
    earlier = log.read_text() if log.exists() else ""
    log.write_text(earlier + " ".join(ids) + "\\n")
    entries = []
    for exercise_id in ids:
        source = pathlib.Path("exercises", modules[exercise_id] + ".py").read_text()
        if "crash" in source:
            print("the grader fell over")
            sys.exit(3)
        cached = f"{exercise_id}: cached" in source
        done = f"{exercise_id}: done" in source or cached
        status = "cached" if cached else "done" if done else "failing"
        entries.append({
            "id": exercise_id, "title": exercise_id.title(), "module": modules[exercise_id],
            "status": status,
            "passed": 2 if done else 1, "failed": 0 if done else 1, "total": 2,
            "points": 10.0 if done else 0.0, "max_points": 10.0,
            "message": "" if done else f"First failing check: {exercise_id} is wrong",
            "tests": [],
        })
    results.write_text(json.dumps({"schema": 1, "exercises": entries}))
    """
)


def make_watcher(
    root: Path, curriculum: Sequence[Exercise] = CURRICULUM
) -> tuple[watch.Watcher, io.StringIO]:
    """A watcher over a temporary repository ``root`` whose grader is the fake one."""
    (root / "exercises").mkdir()
    for module in {item.module for item in curriculum}:
        (root / "exercises" / f"{module}.py").write_text("# stub\n")
    fake = root / "fake_grader.py"
    fake.write_text(FAKE_GRADER)
    modules = {item.id: item.module for item in curriculum}

    def command(ids: Sequence[str], results: Path) -> list[str]:
        return [sys.executable, str(fake), json.dumps(modules), *ids, "--results", str(results)]

    out = io.StringIO()
    return watch.Watcher(root, command=command, out=out, curriculum=curriculum), out


@pytest.fixture
def kata(tmp_path: Path) -> tuple[watch.Watcher, io.StringIO]:
    return make_watcher(tmp_path)


def save(watcher: watch.Watcher, module: str, text: str) -> Path:
    path = watcher.exercises_dir / f"{module}.py"
    path.write_text(text)
    return path


def graded(watcher: watch.Watcher) -> list[str]:
    """The ids of each grade the fake grader ran, one line per run."""
    return (watcher.root / "graded.log").read_text().splitlines()


def test_start_grades_everything_and_shows_the_first_exercise_not_done(kata):
    watcher, out = kata
    save(watcher, "alpha", "alpha: done")
    watcher.start()
    text = out.getvalue()
    assert graded(watcher) == ["alpha beta gamma delta"]
    assert "1 of 4 exercises done." in text
    assert "beta  Beta  failing  1/2" in text
    assert "First failing check: beta is wrong" in text
    assert "alpha  Alpha" not in text  # only the exercise in progress is shown


def test_start_with_an_id_grades_only_that_exercise(kata):
    watcher, out = kata
    watcher.start("beta")
    assert graded(watcher) == ["beta"]
    assert "beta  Beta  failing  1/2" in out.getvalue()


def test_a_save_regrades_its_exercise_and_names_the_next_when_it_turns_done(kata):
    watcher, out = kata
    watcher.start()
    watcher.changed([save(watcher, "alpha", "still wrong")])
    assert "alpha  Alpha  failing  1/2" in out.getvalue()
    watcher.changed([save(watcher, "alpha", "alpha: done")])
    text = out.getvalue()
    assert graded(watcher)[1:] == ["alpha", "alpha"]
    assert "exercises/alpha.py saved" in text
    assert "alpha  Alpha  done  2/2" in text
    assert "alpha is done. Next: beta: implement g in exercises/beta.py" in text


def test_a_done_exercise_saved_again_does_not_announce_the_next_again(kata):
    watcher, out = kata
    watcher.changed([save(watcher, "alpha", "alpha: done")])
    watcher.changed([save(watcher, "alpha", "alpha: done, and tidied")])
    assert out.getvalue().count("alpha is done. Next:") == 1


def test_a_module_of_two_exercises_grades_the_first_not_done_then_both(kata):
    watcher, out = kata
    path = save(watcher, "models", "gamma: done")
    watcher.changed([path])
    assert graded(watcher) == ["gamma"]
    assert "gamma is done. Next: delta: implement k in exercises/models.py" in out.getvalue()
    watcher.changed([save(watcher, "models", "gamma: done delta: done")])
    assert graded(watcher)[-1] == "delta"
    watcher.changed([path])
    assert graded(watcher)[-1] == "gamma delta"  # all done: a save shows whether it broke one


def test_a_cached_capstone_counts_as_done(kata):
    watcher, out = kata
    save(watcher, "alpha", "alpha: done")
    save(watcher, "beta", "beta: done")
    save(watcher, "models", "gamma: cached")
    watcher.start()
    assert "3 of 4 exercises done." in out.getvalue()
    assert "delta  Delta  failing  1/2" in out.getvalue()


def test_the_next_exercise_wraps_to_an_earlier_one_not_done(kata):
    watcher, out = kata
    watcher.start()  # nothing done
    watcher.changed([save(watcher, "models", "gamma: done delta: done")])
    watcher.changed([save(watcher, "models", "gamma: done delta: done")])
    assert "delta is done. Next: alpha: implement f in exercises/alpha.py" in out.getvalue()


def test_files_that_are_not_exercise_modules_are_ignored(kata, tmp_path):
    watcher, _ = kata
    (tmp_path / "exercises" / "__pycache__").mkdir()
    ignored = [
        tmp_path / "exercises" / "notes.txt",
        tmp_path / "exercises" / "scratch.py",  # not a module of the curriculum
        tmp_path / "exercises" / "__pycache__" / "alpha.py",
        tmp_path / "alpha.py",
    ]
    for path in ignored:
        path.write_text("alpha: done")
    watcher.changed(ignored)
    assert not (tmp_path / "graded.log").exists()


def test_a_grader_that_writes_no_results_is_reported_and_the_watch_goes_on(kata):
    watcher, out = kata
    watcher.changed([save(watcher, "alpha", "crash")])
    text = out.getvalue()
    assert "the grader exited with status 3" in text
    assert "the grader fell over" in text
    watcher.changed([save(watcher, "alpha", "alpha: done")])
    assert "alpha  Alpha  done  2/2" in out.getvalue()


def test_run_reports_at_start_then_once_per_batch_of_saves(kata):
    watcher, out = kata

    def saves() -> Iterator[set[Path]]:  # each save happens when the watcher waits for it
        yield {save(watcher, "alpha", "alpha: done")}
        yield {save(watcher, "beta", "beta: done"), watcher.exercises_dir / "notes.txt"}

    watch.run(watcher, saves())
    text = out.getvalue()
    assert graded(watcher) == ["alpha beta gamma delta", "alpha", "beta"]
    assert text.index("alpha is done") < text.index("beta is done. Next: gamma")


@dataclass(frozen=True)
class Capstone(Exercise):
    capstone: bool = True


def test_a_grade_that_may_train_a_capstone_shows_the_graders_output_live(tmp_path, capfd):
    capstone = Capstone("gamma", "Third", "models", ("h",))
    watcher, _ = make_watcher(tmp_path, (*CURRICULUM[:2], capstone, CURRICULUM[3]))
    watcher.changed([save(watcher, "alpha", "alpha: done")])
    assert "the grader's own output" not in capfd.readouterr().out  # a component: kept quiet
    watcher.changed([save(watcher, "models", "")])
    assert "the grader's own output for gamma" in capfd.readouterr().out  # its progress shows
    watcher.start()
    assert "the grader's own output for alpha beta gamma delta" in capfd.readouterr().out


def test_read_results_names_the_file_when_it_is_not_a_results_file(tmp_path):
    path = tmp_path / "results.json"
    with pytest.raises(watch.GradeError, match=r"results\.json"):
        watch.read_results(path)
    path.write_text('{"schema": 1}')
    with pytest.raises(watch.GradeError, match="exercises"):
        watch.read_results(path)


def first_batch(saves: Iterator[set[Path]], path: Path) -> set[Path]:
    """Write ``path`` until ``saves`` (consumed in a thread) reports a batch; return it.

    The watcher may start after the first write (file events are only seen once it runs), so
    each attempt writes new content; the timeout only guards against a hang.
    """
    batches: queue.Queue[set[Path]] = queue.Queue()
    threading.Thread(target=lambda: batches.put(next(saves)), daemon=True).start()
    for attempt in range(int(HANG_GUARD_SECONDS / 0.5)):
        path.write_text("x" * (attempt + 1))
        try:
            return batches.get(timeout=0.5)
        except queue.Empty:
            continue
    pytest.fail(f"no change reported for {path} in {HANG_GUARD_SECONDS} s")


def test_polling_reports_a_saved_file(tmp_path):
    (tmp_path / "alpha.py").write_text("")
    stop = threading.Event()
    try:
        batch = first_batch(watch.poll_changes(tmp_path, stop, period=0.01), tmp_path / "alpha.py")
    finally:
        stop.set()
    assert batch == {tmp_path / "alpha.py"}


def test_file_events_report_a_saved_file(tmp_path):
    pytest.importorskip("watchfiles")
    stop = threading.Event()
    saves, how = watch.changes(tmp_path, stop)
    assert how == "file events (watchfiles)"
    try:
        batch = first_batch(saves, tmp_path / "alpha.py")
    finally:
        stop.set()
    assert {path.resolve() for path in batch} == {(tmp_path / "alpha.py").resolve()}


def test_poll_is_used_when_asked(tmp_path):
    _, how = watch.changes(tmp_path, threading.Event(), poll=True)
    assert how.startswith("polling")


def test_ctrl_c_stops_the_watch_cleanly(monkeypatch, capsys):
    def interrupted(self: watch.Watcher, exercise_id: str | None = None) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(watch.Watcher, "start", interrupted)
    assert watch.main(["--poll"]) == 0
    assert "watch stopped" in capsys.readouterr().out


def test_an_unknown_exercise_is_refused_with_the_valid_ids(capsys):
    assert watch.main(["nonesuch"]) == 2
    assert "expected one of" in capsys.readouterr().err
