"""The kata's pytest wiring, in one place: ``tests/conftest.py`` only loads this plugin.

Which implementation is judged:

- ``--impl reference`` (the default) judges the trusted library, ``--impl exercises`` the
  learner's; ``--impl-dir DIR`` imports that package from DIR instead of the repository (the
  project's suite judges freshly generated stubs and planted mistakes that way). Tests reach
  it through the ``impl`` fixture, never by importing it::

      pytestmark = pytest.mark.exercise("linear")

      def test_shape(impl):
          layer = impl.linear.Linear(3, 4)

  The modules are imported in a worker process of the exercise under test, never here
  (:mod:`kata.sandbox`; ``--in-process`` imports them here, to debug). A module that fails to
  import (or exits while importing) fails only the tests that ask for it, with a message naming
  the file and the line. When grading (``--impl exercises``), the judge's files are put back
  after each test, which then fails with what its code wrote (:mod:`kata.guard`).
- ``--exercise ID`` (repeatable) keeps only the tests of those exercises.

Hypothesis profiles: ``dev`` (random, for the project's developers), ``ci`` (when ``CI`` is
set: derandomized, with the ``@reproduce_failure`` blob a developer may paste) and ``grade``
(``--impl exercises``: derandomized so a grade is reproducible, and no blob: a learner is never
told to edit a test; the grader prints the kata's own command to re-run a check instead).

Time limits. Every test has one, by kind (:data:`TIME_LIMITS`: a component exercise's test, a
capstone's, the kata's own tests), or from ``@pytest.mark.time_limit(seconds)``; all are
multiplied by ``--time-limit-scale`` (the kata's own tests make a planted infinite loop cost
seconds). At the limit, ``SIGALRM`` interrupts the test in the main thread; the worker running
the code under test dumps its stack and is ended, and the test fails with
:class:`TimeLimitExceeded`, naming the learner function it was in (the innermost frame in the
implementation's files) and the limit; the exercise's other tests are then skipped (it cannot
be done, and each would wait as long). A worker that ends itself fails the test as *crashed*.
Should the judge's own code not return to Python, :mod:`faulthandler` ends pytest
``hard_limit - limit`` seconds later, writing every thread's stack to ``<report>.stuck``; the
grader reads that file, records the test, and runs the rest.

The report (``--kata-report PATH``, written by ``python -m kata.grade``): one JSON line per
event, flushed at once, so that a process that dies mid-test (``os._exit``, a segfault) leaves
the name of the test that killed it:

    {"event": "started", "nodeid": ..., "exercise": "linear", "limit": 60.0, "scale": 1.0}
    {"event": "result", "nodeid": ..., "exercise": "linear", "outcome": "failed",
     "message": "...", "not_implemented": false, "cached": false}
    {"event": "finished", "exitstatus": 1}

``outcome`` is ``passed``, ``failed``, ``timeout``, ``crashed`` or ``skipped`` (an error in
setup or teardown counts as ``failed``). ``--kata-skip PATH`` (JSON ``{"done": [nodeid, ...],
"stopped": {exercise: reason}}``) is how the grader resumes after a crash: those tests are not
collected again, and the stopped exercises' tests are skipped with the reason.

Capstones: the ``capstone_cache`` fixture (see :class:`CapstoneCache`) keeps a capstone's
result in ``.kata/capstones.json`` beside the graded package, so an unchanged capstone is not
retrained (``--retrain`` forces it).
"""

from __future__ import annotations

import contextlib
import faulthandler
import hashlib
import importlib
import importlib.util
import json
import os
import signal
import sys
import threading
import traceback
from collections.abc import Generator, Iterator
from pathlib import Path
from types import FrameType, ModuleType, TracebackType
from typing import IO, Any

import pytest
from hypothesis import HealthCheck, Phase, settings

from kata.copies import ANSWERS, borrowed_answers, borrowed_in_source
from kata.curriculum import EXERCISE_IDS, exercise, prerequisite_modules
from kata.guard import FileGuard, judge_files
from kata.limits import (
    CAPSTONE,
    COMPONENT,
    STATE_DIRECTORY,
    TIME_LIMITS,
    TOOLING,
    hard_limit,
    timeout_message,
)
from kata.paths import REPOSITORY
from kata.report import is_not_implemented, read_hypothesis, relative, short_message
from kata.sandbox import Worker, WorkerEndedError, adopt_orphans, end_orphans, remote_frames
from kata.stacks import crash_message

IMPLEMENTATIONS = ("reference", "exercises")
settings.register_profile(
    "dev", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=25
)
settings.register_profile(
    "ci",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    max_examples=25,
    derandomize=True,
    print_blob=True,
    # No "explain" phase: on a stub every example fails, and explaining each failure costs
    # seconds per test; the shrunk failing example is what a learner needs.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
)
settings.register_profile("grade", settings.get_profile("ci"), print_blob=False)


class TimeLimitExceeded(BaseException):
    """A test ran past its time limit. A ``BaseException``, so that neither hypothesis (which
    would retry and shrink an ``Exception``) nor a learner's ``except Exception`` stops it."""

    def __init__(self, limit: float) -> None:
        super().__init__(f"time limit of {limit:g} s reached")
        self.limit = limit


# ------------------------------------------------------------------------------- options


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kata")
    group.addoption(
        "--impl",
        choices=IMPLEMENTATIONS,
        default="reference",
        help="the implementation under test (default: reference)",
    )
    group.addoption(
        "--impl-dir",
        default=None,
        help="import the --impl package from this directory instead of the repository",
    )
    group.addoption(
        "--exercise",
        action="append",
        default=[],
        choices=EXERCISE_IDS,
        help="keep only the tests of this exercise (repeatable)",
    )
    group.addoption(
        "--time-limit-scale",
        type=_positive_float,
        default=1.0,
        help="multiply every test's time limit by this factor (default 1)",
    )
    group.addoption(
        "--kata-report",
        metavar="PATH",
        default=None,
        help="stream one JSON line per test event to PATH (for python -m kata.grade)",
    )
    group.addoption(
        "--kata-skip",
        metavar="PATH",
        default=None,
        help="JSON of the tests already graded and the exercises stopped (for kata.grade)",
    )
    group.addoption(
        "--kata-state",
        metavar="DIR",
        default=None,
        help="the grader's state directory (default: .kata beside the graded package)",
    )
    group.addoption(
        "--in-process",
        action="store_true",
        help="import the implementation in pytest's own process, not in a worker (to debug)",
    )
    group.addoption(
        "--retrain",
        action="store_true",
        help="train every capstone, even one whose inputs have not changed",
    )


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise ValueError(f"expected a positive number, got {text}")
    return value


class KataRun:
    """What the plugin keeps for one pytest run: the report stream and the time limits."""

    def __init__(self, config: pytest.Config, impl_root: Path) -> None:
        self.impl_root = impl_root
        self.workers = (
            None
            if config.getoption("--in-process")
            else Workers(
                config.getoption("--impl"),
                impl_root,
                end_leftovers=config.getoption("--impl") == "exercises",
            )
        )
        # When grading, the judge's files are kept and put back after each test (kata.guard):
        # what holds when the worker cannot be run as an unprivileged user.
        grading = self.workers is not None and config.getoption("--impl") == "exercises"
        self.guard = FileGuard(judge_files()) if grading else None
        self.scale: float = config.getoption("--time-limit-scale")
        self.stopped: dict[str, str] = {}
        self.done: set[str] = set()
        skip = config.getoption("--kata-skip")
        if skip:
            data = json.loads(Path(skip).read_text(encoding="utf-8"))
            self.done = set(data.get("done", ()))
            self.stopped = dict(data.get("stopped", {}))
        destination = config.getoption("--kata-report")
        # Under the grader, what ends the process is written to <report>.stuck, where the
        # grader reads it; in a plain pytest run, to the terminal's stderr (as pytest's own
        # faulthandler plugin does, from a copy of the descriptor taken before capture).
        self.report: IO[str] | None = None
        self.stuck: IO[str] | None = None
        self.stderr_copy: int | None = None
        if destination:
            self.report = open(destination, "a", encoding="utf-8")  # noqa: SIM115 (session-long)
            self.stuck = open(destination + ".stuck", "w", encoding="utf-8")  # noqa: SIM115
        else:
            self.stderr_copy = os.dup(_stderr_fileno())

    def arm(self, seconds: float) -> None:
        """End the process, writing every thread's stack, unless disarmed within ``seconds``."""
        if self.stuck is not None:
            self.stuck.seek(0)
            self.stuck.truncate()
        target = self.stuck if self.stuck is not None else self.stderr_copy
        faulthandler.dump_traceback_later(seconds, exit=True, file=target)  # type: ignore[arg-type]

    def write(self, event: dict[str, Any]) -> None:
        if self.report is not None:
            self.report.write(json.dumps(event) + "\n")
            self.report.flush()

    def close(self) -> None:
        if self.workers is not None:
            self.workers.close()
        for stream in (self.report, self.stuck):
            if stream is not None:
                stream.close()
        if self.stderr_copy is not None:
            os.close(self.stderr_copy)


def _stderr_fileno() -> int:
    try:
        fileno = sys.stderr.fileno()
    except (AttributeError, ValueError, OSError):
        fileno = -1
    if fileno == -1 and sys.__stderr__ is not None:
        fileno = sys.__stderr__.fileno()
    return fileno


RUN = pytest.StashKey[KataRun]()
LIMIT = pytest.StashKey[float]()
RECORD = pytest.StashKey[dict[str, Any]]()
CACHED = pytest.StashKey[bool]()
REAL_EXIT = pytest.StashKey[Any]()


@pytest.hookimpl(trylast=True)  # after pytest's faulthandler plugin, which writes to stderr
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "exercise(id): the test judges the exercise with this id")
    config.addinivalue_line(
        "markers", "late: run after the other tests (checks across calls come after the basics)"
    )
    config.addinivalue_line(
        "markers", "time_limit(seconds): this test's time limit, in place of its kind's"
    )
    name = config.getoption("--impl")
    if name == "exercises":
        settings.load_profile("grade")
    else:
        settings.load_profile("ci" if os.environ.get("CI") else "dev")
    root = _install_implementation(
        name, config.getoption("--impl-dir"), here=config.getoption("--in-process")
    )
    run = config.stash[RUN] = KataRun(config, root)
    if run.workers is not None:
        run.workers.prepare()  # it starts while pytest collects
    if run.stuck is not None:
        # What ends the process is written where the grader looks for it: a fatal signal's
        # stack (faulthandler), and the caller of os._exit.
        faulthandler.enable(file=run.stuck)
        config.stash[REAL_EXIT] = os._exit
        os._exit = _reporting_exit(os._exit, run.stuck)


def _reporting_exit(real_exit: Any, stuck: IO[str]) -> Any:
    """``os._exit`` that first writes its caller's stack to ``stuck``, as faulthandler would
    (most recent call first), so the grader can name the function that ended the process.
    Only in this process: a forked child's exit is its own business."""
    pid = os.getpid()

    def _exit(status: int) -> None:
        if os.getpid() == pid:
            stuck.seek(0)
            stuck.truncate()
            stuck.write(f"os._exit({status})\n")
            for frame, line in traceback.walk_stack(sys._getframe(1)):
                stuck.write(f'  File "{frame.f_code.co_filename}", line {line} in ')
                stuck.write(f"{getattr(frame.f_code, 'co_qualname', frame.f_code.co_name)}\n")
            stuck.flush()
        real_exit(status)

    return _exit


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The last event: the grader ends a process that does not exit after it (a thread of
    the code under test that never ends keeps Python from exiting)."""
    if RUN in session.config.stash:
        session.config.stash[RUN].write({"event": "finished", "exitstatus": int(exitstatus)})


def pytest_unconfigure(config: pytest.Config) -> None:
    if RUN in config.stash:
        if REAL_EXIT in config.stash:
            faulthandler.disable()
            os._exit = config.stash[REAL_EXIT]
        config.stash[RUN].close()


def _install_implementation(name: str, directory: str | None, *, here: bool) -> Path:
    """The folder of the package ``name`` in ``directory`` (or the repository); when it is
    imported ``here`` (``--in-process``), also make ``import <name>`` find it. Otherwise
    nothing of it runs in this process: its worker imports it."""
    root = Path(directory).resolve() if directory else REPOSITORY
    init = root / name / "__init__.py"
    if not init.is_file():
        raise pytest.UsageError(f"--impl {name}: no package at {init}")
    if directory and here:
        for module_name in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[module_name]
        spec = importlib.util.spec_from_file_location(
            name, init, submodule_search_locations=[str(init.parent)]
        )
        assert spec is not None and spec.loader is not None
        package = importlib.util.module_from_spec(spec)
        sys.modules[name] = package
        spec.loader.exec_module(package)
    return init.parent


def state_directory(config: pytest.Config) -> Path:
    """The grader's state folder: ``--kata-state``, else ``.kata`` beside the graded package."""
    given = config.getoption("--kata-state")
    if given:
        return Path(given)
    directory = config.getoption("--impl-dir")
    return (Path(directory).resolve() if directory else REPOSITORY) / STATE_DIRECTORY


# ---------------------------------------------------------------------------- collection


def exercise_of(item: pytest.Item) -> str | None:
    """The exercise id a test is marked with, or None for the kata's own tests.

    Raises:
        pytest.UsageError: if the mark names no exercise of the curriculum.
    """
    mark = item.get_closest_marker("exercise")
    if mark is None:
        return None
    if len(mark.args) != 1 or mark.args[0] not in EXERCISE_IDS:
        raise pytest.UsageError(
            f"{item.nodeid}: exercise mark {mark.args!r} names no exercise of the "
            f"curriculum ({', '.join(EXERCISE_IDS)})"
        )
    return str(mark.args[0])


def kind_of(item: pytest.Item) -> str:
    """``capstone``, ``component`` (a test of any other exercise) or ``tooling``."""
    exercise_id = exercise_of(item)
    if exercise_id is None:
        return TOOLING
    return CAPSTONE if exercise(exercise_id).capstone else COMPONENT


def time_limit_of(item: pytest.Item, scale: float = 1.0) -> float:
    """The test's limit in seconds: its ``time_limit`` mark, else its kind's, times ``scale``.

    Raises:
        pytest.UsageError: for a mark without one positive number.
    """
    mark = item.get_closest_marker("time_limit")
    if mark is None:
        return TIME_LIMITS[kind_of(item)] * scale
    if len(mark.args) != 1 or not isinstance(mark.args[0], (int, float)) or mark.args[0] <= 0:
        raise pytest.UsageError(
            f"{item.nodeid}: time_limit mark {mark.args!r}, expected one positive number of seconds"
        )
    return float(mark.args[0]) * scale


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = set(config.getoption("--exercise"))
    judging_learner = config.getoption("--impl") != "reference"
    done = config.stash[RUN].done
    kept, dropped = [], []
    for item in items:
        exercise_id = exercise_of(item)
        if wanted and exercise_id not in wanted:
            dropped.append(item)
        elif judging_learner and exercise_id is None:
            dropped.append(item)  # the kata's own tests judge no implementation
        elif item.nodeid in done:
            dropped.append(item)  # graded before the process that ran it died
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    # A stable sort: the basic checks of an exercise run, and fail, before its checks across
    # calls, so the first failure a learner is shown is the simplest one.
    items[:] = sorted(kept, key=lambda item: item.get_closest_marker("late") is not None)


# ------------------------------------------------------------------------- running a test


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    run = item.config.stash[RUN]
    limit = time_limit_of(item, run.scale)
    item.stash[LIMIT] = limit
    item.stash[RECORD] = {
        "event": "result",
        "nodeid": item.nodeid,
        "exercise": exercise_of(item),
        "outcome": "passed",
        "message": "",
        "not_implemented": False,
        "cached": False,
    }
    run.write(
        {
            "event": "started",
            "nodeid": item.nodeid,
            "exercise": exercise_of(item),
            "limit": limit,
            "scale": run.scale,
        }
    )
    if run.workers is not None:
        run.workers.start_test(exercise_of(item))
    run.arm(hard_limit(limit))
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
    record = item.stash[RECORD]
    following = exercise_of(nextitem) if nextitem is not None else None
    if run.workers is not None and (nextitem is None or following != exercise_of(item)):
        # the exercise's last test: nothing of its code runs after this
        run.workers.stop(prepare_next=following is not None)
    if run.guard is not None:
        _put_back_the_judge(run.guard, record)
    record["cached"] = item.stash.get(CACHED, False)
    run.write(record)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    reason = item.config.stash[RUN].stopped.get(exercise_of(item) or "")
    if reason:
        pytest.skip(reason)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    with _alarm(item.stash[LIMIT]):
        yield


@contextlib.contextmanager
def _alarm(limit: float) -> Iterator[None]:
    """Raise :class:`TimeLimitExceeded` in the main thread after ``limit`` seconds (where
    ``SIGALRM`` exists; elsewhere only the hard limit applies)."""
    if not hasattr(signal, "SIGALRM") or not _in_main_thread():
        yield
        return
    armed = [True]

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        if armed[0]:
            raise TimeLimitExceeded(limit)

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        yield
    finally:
        armed[0] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    read_hypothesis(item=item)
    report = (yield).get_result()
    record = item.stash[RECORD]
    if record["outcome"] != "passed" or report.passed or call.excinfo is None:
        return  # the first failure or skip of a test is the one that explains it
    error = call.excinfo.value
    run = item.config.stash[RUN]
    exercise_id = record["exercise"]
    if isinstance(error, TimeLimitExceeded):
        record["outcome"] = "timeout"
        where = getattr(error, "kata_where", "")  # where the worker was, if it was there
        where = where or where_stopped(error.__traceback__, run.impl_root)
        record["message"] = timeout_message(error.limit, where, run.scale)
        if exercise_id is not None:
            run.stopped[exercise_id] = f"not run: {item.nodeid} hit its time limit"
        return
    if isinstance(error, WorkerEndedError):
        record["outcome"] = "crashed"
        file = exercise(exercise_id).path if exercise_id in EXERCISE_IDS else "the code under test"
        where = error.where or f"{file} or a module it imports"
        record["message"] = crash_message(error.how, where)
        if exercise_id is not None:
            run.stopped[exercise_id] = f"not run: {item.nodeid} ended the process"
        return
    record["outcome"] = "skipped" if report.skipped else "failed"
    record["message"] = short_message(error)
    record["not_implemented"] = report.failed and is_not_implemented(error)


def _put_back_the_judge(guard: FileGuard, record: dict[str, Any]) -> None:
    """Fail the test whose code wrote the judge's files, once they are put back."""
    done = guard.restore()
    if not done:
        return
    record["outcome"] = "failed"
    record["not_implemented"] = False
    record["message"] = (
        "the code under test wrote the judge's files: " + "; ".join(done) + ".\n"
        "Code under test must not write files of the kata (kata/, tests/, toolkit/, reference/, "
        "the repository's own files): a grade never counts what such code did."
    )


def where_stopped(trace: TracebackType | None, impl_root: Path) -> str:
    """The innermost frame of ``trace`` in the implementation's files, as ``Linear.forward
    (exercises/linear.py, line 47)``; else the innermost frame outside this plugin."""
    located = list(traceback.walk_tb(trace))
    own = [(f, n) for f, n in located if _is_under(f.f_code.co_filename, impl_root)]
    outside = [(f, n) for f, n in located if f.f_code.co_filename != __file__]
    chosen = own or outside or located
    if not chosen:
        return "an unknown place"
    frame, line = chosen[-1]
    code = frame.f_code
    name = getattr(code, "co_qualname", code.co_name)
    return f"{name} ({relative(code.co_filename)}, line {line})"


def _is_under(filename: str, root: Path) -> bool:
    with contextlib.suppress(ValueError, OSError):
        return Path(filename).resolve().is_relative_to(root)
    return False


# -------------------------------------------------------------------------------- fixtures


class Implementation:
    """Attribute access gives a module of the implementation under test.

    ``impl.linear`` is ``exercises.linear`` or ``reference.linear``: imported in a worker
    process of the exercise being judged (:mod:`kata.sandbox`), and used through a proxy, so
    the code under test cannot reach the judge; with ``workers=None`` (``--in-process``),
    imported here. An import that fails fails the calling test with the file and line of the
    error, not a traceback wall; so does a learner module that borrows the answers
    (:mod:`kata.copies`).
    """

    def __init__(self, package: str, root: Path, workers: Workers | None = None) -> None:
        self.package = package
        self.root = root
        self.workers = workers

    def __getattr__(self, module: str) -> Any:
        qualified = f"{self.package}.{module}"
        path = self.root / f"{module}.py"
        if module.startswith("_") or not path.is_file():
            # not a module of the package: dunders, and probes such as hypothesis' mock check
            raise AttributeError(f"{self.package} has no module {module!r}")
        if self.workers is None:
            return self._import_here(qualified)
        worker = self.workers.current()
        if qualified in worker.modules:  # imported and judged once per worker
            return worker.modules[qualified]
        if self.package != ANSWERS:
            borrowed = borrowed_in_source(path)
            if borrowed:
                pytest.fail(borrowed, pytrace=False)
        try:
            imported = worker.module(qualified)
        except Exception as error:  # any import failure is the learner's to see
            pytest.fail(_describe_import_error(qualified, error), pytrace=False)
        if self.package != ANSWERS:
            copied = worker.borrowed(imported, REPOSITORY / ANSWERS)
            if copied:
                pytest.fail(copied, pytrace=False)
        worker.modules[qualified] = imported
        return imported

    def _import_here(self, qualified: str) -> ModuleType:
        try:
            imported = importlib.import_module(qualified)
        except (Exception, SystemExit) as error:  # any import failure is the learner's to see
            pytest.fail(_describe_import_error(qualified, error), pytrace=False)
        if self.package != ANSWERS:
            copied = borrowed_answers(imported, REPOSITORY / ANSWERS)
            if copied:
                pytest.fail(copied, pytrace=False)
        return imported

    def __repr__(self) -> str:
        return f"Implementation({self.package!r})"


class Workers:
    """The worker process of the exercise whose test is running: one per exercise, ended when a
    test of another exercise starts (or when a request could not finish: a time limit, the
    process ended); so a module that breaks its worker breaks nothing of another exercise.

    The next worker is started ahead (``spare``: at the start of the run, while pytest
    collects, and when a worker ends), so an exercise's first test does not wait for Python
    and numpy to start."""

    def __init__(self, package: str, root: Path, *, end_leftovers: bool = False) -> None:
        self.package, self.root = package, root
        self.exercise: str | None = None
        self.worker: Worker | None = None
        self.spare: Worker | None = None
        # When grading, what a worker's code started and left is ended with the worker.
        self.end_leftovers = end_leftovers and adopt_orphans()

    def _start(self) -> Worker:
        return Worker(self.package, self.root, REPOSITORY / "toolkit", "the code under test")

    def prepare(self) -> None:
        """Start the spare worker, if there is none."""
        if self.spare is None:
            self.spare = self._start()

    def start_test(self, exercise_id: str | None) -> None:
        if exercise_id != self.exercise:
            self.stop(prepare_next=exercise_id is not None)
            self.exercise = exercise_id

    def current(self) -> Worker:
        if self.worker is None or self.worker.peer.broken:
            self.stop()
            self.worker, self.spare = self.spare or self._start(), None
            self.worker.label = f"exercise {self.exercise}" if self.exercise else self.worker.label
        return self.worker

    def stop(self, *, prepare_next: bool = True) -> None:
        """End the current worker; start the spare for the next exercise if ``prepare_next``."""
        if self.worker is not None:
            self.worker.stop()
            self.worker = None
            if self.end_leftovers:
                alive = [] if self.spare is None or self.spare.process is None else [self.spare]
                end_orphans(keep=[worker.process.pid for worker in alive if worker.process])
        if prepare_next:
            self.prepare()

    def close(self) -> None:
        """End every worker (and, when grading, what they left)."""
        for worker in (self.worker, self.spare):
            if worker is not None:
                worker.stop()
        self.worker = self.spare = None
        if self.end_leftovers:
            end_orphans()


def _describe_import_error(qualified: str, error: BaseException) -> str:
    if isinstance(error, SyntaxError):
        where = f"{relative(error.filename or '?')}, line {error.lineno}"
    else:
        frames = [(f.filename, f.lineno) for f in traceback.extract_tb(error.__traceback__)]
        frames = [(f, line) for f, line, _ in remote_frames(error)] or frames
        own = [f for f in frames if "importlib" not in f[0] and "kata" not in Path(f[0]).parts]
        own = own or frames
        where = f"{relative(own[-1][0])}, line {own[-1][1]}" if own else "?"
    return (
        f"cannot import {qualified}: {type(error).__name__}: {error}\n"
        f"  at {where}\n"
        f"  Fix this error first: every test of this module fails until it imports."
    )


@pytest.fixture(scope="session")
def impl(request: pytest.FixtureRequest) -> Implementation:
    """The implementation under test (``--impl``): ``impl.<module>`` imports its modules."""
    run = request.config.stash[RUN]
    return Implementation(request.config.getoption("--impl"), run.impl_root, run.workers)


class CapstoneCache:
    """A capstone's last result, reused while nothing it depends on has changed.

    The key is the SHA-256 of: every file of the implementation the exercise and its
    prerequisites use (:func:`kata.curriculum.prerequisite_modules`), the test file, every
    module of the given ``toolkit/`` and of the judge (``kata/``, ``tests/``: a capstone uses
    helpers of other test files), and what the test adds (the recipe's epochs). The results live in
    ``<state>/capstones.json`` (``.kata/`` is ignored by git). Used only when judging
    ``exercises`` (the reference is always trained) and not with ``--retrain``.
    """

    def __init__(self, item: pytest.Item, path: Path, *, enabled: bool, retrain: bool) -> None:
        self.item = item
        self.path = path
        self.enabled = enabled
        self.retrain = retrain

    def key(self, impl: Implementation, exercise_id: str, **extra: object) -> str:
        digest = hashlib.sha256()
        modules = prerequisite_modules(exercise(exercise_id))
        files = [impl.root / f"{module}.py" for module in modules]
        files.append(Path(str(self.item.path)))
        for folder in ("toolkit", "kata", "tests"):  # the given code and the whole judge
            files += sorted((REPOSITORY / folder).rglob("*.py"))
        for file in files:
            digest.update(str(file.name).encode())
            digest.update(file.read_bytes() if file.is_file() else b"<missing>")
        digest.update(json.dumps(extra, sort_keys=True, default=str).encode())
        return digest.hexdigest()

    def _entries(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # no cache yet, or a damaged one: train, and write a fresh one
        return data if isinstance(data, dict) else {}

    def lookup(self, key: str) -> dict[str, Any] | None:
        """The stored result (``{"passed": bool, "report": str}``) for this test and key, and
        the test marked as cached; None when it must train."""
        if not self.enabled or self.retrain:
            return None
        entry = self._entries().get(self.item.nodeid)
        if not isinstance(entry, dict) or entry.get("key") != key:
            return None
        self.item.stash[CACHED] = True
        return entry

    def replay(self, key: str, capsys: pytest.CaptureFixture[str]) -> bool:
        """Report the stored result for this key instead of training: print its first line on
        the terminal, marked cached, fail with its stored message when it failed, and return
        True; return False (printing nothing) when the capstone must train."""
        cached = self.lookup(key)
        if cached is None:
            return False
        note = (
            "cached: none of the files it depends on changed since this result; "
            "python -m kata.grade --retrain trains it again"
        )
        with capsys.disabled():
            print(f"\n[capstone] {cached['report'].splitlines()[0]} ({note})")
        if not cached["passed"]:
            pytest.fail(f"{cached['report']}\n  ({note})", pytrace=False)
        return True

    def store(self, key: str, *, passed: bool, report: str) -> None:
        """Remember this run's result (written atomically)."""
        if not self.enabled:
            return
        entries = self._entries()
        entries[self.item.nodeid] = {"key": key, "passed": passed, "report": report}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(entries, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(temporary, self.path)


@pytest.fixture
def capstone_cache(request: pytest.FixtureRequest) -> CapstoneCache:
    """The result cache of a capstone test (see :class:`CapstoneCache`)."""
    config = request.config
    path = state_directory(config) / "capstones.json"
    return CapstoneCache(
        request.node,
        path,
        enabled=config.getoption("--impl") == "exercises",
        retrain=config.getoption("--retrain"),
    )
