"""The sandbox (:mod:`kata.sandbox`): the code under test in a worker process, reached through
a pipe. Each test starts a worker on a tiny package it writes, and checks one promise: changes in
place cross both ways, identity holds, the judge's callbacks run in the judge and their failures
stick, exceptions keep their type, the judge decodes no global, and a worker that loops or ends
is stopped and named."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from kata.curriculum import exercise_modules
from kata.paths import REPOSITORY
from kata.sandbox import (
    HEADER,
    Channel,
    SandboxError,
    Worker,
    WorkerEndedError,
    lines_run,
    remote_frames,
)
from tests.processes import processes_mentioning
from toolkit.layer import Layer

pytestmark = pytest.mark.time_limit(120)

MODULE = """\
import os
import numpy as np
from toolkit.layer import Layer


class Scale(Layer):
    def __init__(self, factor):
        super().__init__()
        self._params["w"] = np.full(3, float(factor))
        self.seen = []

    def forward(self, x):
        self.x = x
        return x * self.params["w"]

    def grow(self):
        self.params["w"] += 1.0  # in place, as an optimizer does


def add_one_in_place(x):
    x += 1


def flags(x):
    return (bool(x.flags.c_contiguous), bool(x.flags.writeable))


def call_back(function, value):
    return function(value) * 2


def swallow(function):
    try:
        function()
    except BaseException:
        return "swallowed"


def spin():
    while True:
        pass


def leave():
    os._exit(7)


def loop(times):
    for _ in range(times):
        pass


class Problem(Exception):
    pass


def fail(kind):
    if kind == "value":
        raise ValueError("a bad value")
    if kind == "key":
        raise KeyError("W")
    raise Problem("learner-defined")
"""


@pytest.fixture
def worker(tmp_path: Path):
    package = tmp_path / "exercises"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "tiny.py").write_text(MODULE)
    started = Worker("exercises", package, REPOSITORY / "toolkit", "exercise tiny")
    yield started
    started.stop()


def test_arrays_changed_in_place_cross_both_ways(worker):
    tiny = worker.module("exercises.tiny")
    layer = tiny.Scale(2)
    w = layer.params["w"]
    x = np.arange(3.0)
    assert np.array_equal(layer.forward(x), [0.0, 2.0, 4.0])
    w[...] = 10.0  # the judge perturbs a parameter: the next call sees it
    assert np.array_equal(layer.forward(x), [0.0, 10.0, 20.0])
    layer.grow()  # the worker steps it: the judge's array sees it
    assert np.array_equal(w, [11.0, 11.0, 11.0])
    tiny.add_one_in_place(x)  # an input mutated there is mutated here
    assert np.array_equal(x, [1.0, 2.0, 3.0])
    x[...] = 0.0  # and an input the layer kept changes there when it changes here
    assert np.array_equal(layer.x, [0.0, 0.0, 0.0])


def test_identity_and_layouts_are_kept(worker):
    tiny = worker.module("exercises.tiny")
    layer = tiny.Scale(1)
    assert layer.params["w"] is layer.params["w"]
    assert layer.params is layer.params
    assert isinstance(layer, Layer) and isinstance(layer, tiny.Scale)
    assert tiny.flags(np.arange(12.0).reshape(3, 4)[:, ::2]) == (False, True)
    frozen = np.ones(3)
    frozen.flags.writeable = False
    assert tiny.flags(frozen) == (True, False)


def test_a_callback_runs_in_the_judge_and_its_failure_sticks(worker):
    tiny = worker.module("exercises.tiny")
    calls = []
    assert tiny.call_back(lambda value: calls.append(value) or 21, 5) == 42
    assert calls == [5], "the callback ran here, with the worker's argument"

    def check():
        raise AssertionError("the judge's check failed")

    with pytest.raises(AssertionError, match="the judge's check failed"):
        tiny.swallow(check)  # caught and dropped by the code under test: still a failure


def test_exceptions_keep_their_type_message_and_place(worker):
    tiny = worker.module("exercises.tiny")
    with pytest.raises(ValueError, match="a bad value") as caught:
        tiny.fail("value")
    file, _, function = remote_frames(caught.value)[-1]
    assert (Path(file).name, function) == ("tiny.py", "fail")
    assert str(worker.root) in file, "the learner's file, not the worker's copy"
    with pytest.raises(KeyError):
        tiny.fail("key")
    with pytest.raises(Exception, match="learner-defined") as caught:
        tiny.fail("other")
    assert type(caught.value).__name__ == "Problem"


def test_the_judge_decodes_no_global():
    class Evil:
        def __reduce__(self):
            return (print, ("ran code in the judge",))

    payload = pickle.dumps(Evil())
    read, write = os.pipe()
    os.write(write, HEADER.pack(len(payload)) + payload)
    channel = Channel(read, write)
    try:
        with pytest.raises(pickle.UnpicklingError, match=r"may not name builtins\.print"):
            channel.receive()
    finally:
        channel.close()


def test_a_loop_is_stopped_and_named(worker):
    tiny = worker.module("exercises.tiny")

    class Stop(BaseException):
        pass

    def on_alarm(signum, frame):
        raise Stop

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, 0.5)
    try:
        with pytest.raises(Stop) as caught:
            tiny.spin()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert caught.value.kata_where.startswith("spin ("), caught.value.kata_where
    assert worker.process.poll() is not None, "the worker was ended"
    with pytest.raises(SandboxError):
        tiny.spin()


def test_an_exit_ends_only_the_worker_and_is_named(worker):
    tiny = worker.module("exercises.tiny")
    with pytest.raises(WorkerEndedError) as caught:
        tiny.leave()
    assert caught.value.how == "os._exit(7) was called"
    assert caught.value.where.startswith("leave ("), caught.value.where


def test_lines_are_counted_where_the_code_under_test_runs(worker):
    tiny = worker.module("exercises.tiny")
    few, many = (lines_run(tiny, lambda times=t: tiny.loop(times)) for t in (1, 50))
    assert few > 0, "the worker's lines were not counted (a tracer in the judge sees none)"
    assert many - few == 2 * 49, (few, many)  # the loop's two lines, 49 more times
    assert lines_run(tiny, lambda: None) == 0, "a count starts from zero"


def test_the_worker_cannot_import_the_answers(worker):
    with pytest.raises(ModuleNotFoundError, match="reference"):
        worker.module("reference.linear")


def test_as_root_the_worker_cannot_write_the_judges_files(worker, tmp_path):
    if not worker.unprivileged:
        pytest.skip(
            "the worker runs as the judge's user here (not root, or nobody cannot run this "
            "Python): kata.guard is what keeps the judge's files"
        )
    (worker.root / "writer.py").write_text(
        textwrap.dedent(
            f"""\
            def write():
                with open({str(REPOSITORY / "tests" / "conftest.py")!r}, "a") as file:
                    file.write("# forged")
            """
        )
    )
    worker.stop()
    fresh = Worker("exercises", worker.root, REPOSITORY / "toolkit", "exercise tiny")
    try:
        with pytest.raises(PermissionError):
            fresh.module("exercises.writer").write()
    finally:
        fresh.stop()


CONFINED_MODULE = """\
import os
import tempfile


def attempts(outside, judge, judge_fd):
    tried = {}
    for what, act in [
        ("write outside", lambda: open(outside, "w").write("forged")),
        ("signal the judge", lambda: os.kill(judge, 0)),
        ("open the judge's pipe", lambda: os.open(f"/proc/{judge}/fd/{judge_fd}", os.O_WRONLY)),
    ]:
        try:
            act()
            tried[what] = "done"
        except PermissionError:
            tried[what] = "refused"
    with tempfile.TemporaryFile() as scratch:  # its own folder stays writable (TMPDIR)
        scratch.write(b"ok")
    return tried
"""


def test_a_confined_worker_writes_only_in_its_folder_and_leaves_the_judge_alone(worker, tmp_path):
    confinement = worker.confinement
    if confinement.startswith("not confined"):
        pytest.skip(f"the worker is {confinement}: kata.guard keeps the judge's files")
    (worker.root / "confined.py").write_text(CONFINED_MODULE)
    worker.stop()
    fresh = Worker("exercises", worker.root, REPOSITORY / "toolkit", "exercise confined")
    outside = tmp_path / "forged.txt"
    read_end, write_end = os.pipe()  # a descriptor of the judge's, as the report's would be
    try:
        confined = fresh.module("exercises.confined")
        tried = confined.attempts(str(outside), os.getpid(), write_end)
    finally:
        fresh.stop()
        os.close(read_end)
        os.close(write_end)
    assert tried["write outside"] == "refused" and not outside.exists(), confinement
    assert tried["open the judge's pipe"] == "refused", confinement
    if "no signal" in confinement:  # Landlock ABI 6 and later
        assert tried["signal the judge"] == "refused", confinement


# ------------------------------------------------------------ hostile modules, graded whole

FIND_THE_JUDGE = """\
import os
def _judge_folder():
    return os.readlink(f"/proc/{os.getppid()}/cwd")  # the repository the judge runs in
"""
HOSTILE = {
    # replaces checks in memory, and breaks a layer: the judge's checks are not there to patch
    "activations": """\
import numpy as np
np.allclose = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
try:
    import kata.judge
    kata.judge.assert_close = lambda *args, **kwargs: None
except ImportError:
    pass
""",
    # writes a conftest.py that would pass every test of the next run
    "linear": FIND_THE_JUDGE
    + """\
with open(os.path.join(_judge_folder(), "tests", "conftest.py"), "a") as _file:
    _file.write("\\nimport pytest\\n@pytest.hookimpl(hookwrapper=True)\\n"
                "def pytest_runtest_makereport(item, call):\\n    yield\\n")
""",
    # rewrites the grader's results and report when its process exits
    "losses": """\
import atexit, os
def _forge():
    pid = os.getppid()
    while pid > 1:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            words = file.read().decode().split("\\0")
        for flag in ("--results", "--kata-report"):
            if flag in words:
                with open(words[words.index(flag) + 1], "w") as file:
                    file.write('{"score": 1000}')
        with open(f"/proc/{pid}/stat") as file:
            pid = int(file.read().rpartition(")")[2].split()[1])
atexit.register(_forge)
""",
}


def test_hostile_modules_fail_their_own_exercise_and_nothing_else(tmp_path):
    package = tmp_path / "exercises"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for module in exercise_modules():
        shutil.copy(REPOSITORY / "reference" / f"{module}.py", package / f"{module}.py")
    for module, attack in HOSTILE.items():
        path = package / f"{module}.py"
        path.write_text(path.read_text() + "\n" + attack)  # runs at import
    activations = package / "activations.py"  # and a broken ReLU behind the patched checks
    activations.write_text(activations.read_text().replace("np.maximum(x, 0", "np.maximum(x, 1"))
    (package / "init.py").write_text("from reference.init import *  # noqa\n")
    judge = {path: path.read_bytes() for path in (REPOSITORY / "tests").glob("*.py")}
    results = tmp_path / "results.json"
    command = [sys.executable, "-m", "kata.grade", "numerical_gradient", "activations"]
    command += ["linear", "softmax_cross_entropy", "init"]
    command += ["--impl-dir", str(tmp_path), "--results", str(results)]
    done = subprocess.run(
        command, cwd=REPOSITORY, capture_output=True, text=True, timeout=600, check=False
    )
    out = " ".join(done.stdout.split())
    assert {path: path.read_bytes() for path in (REPOSITORY / "tests").glob("*.py")} == judge, (
        "the judge's tests changed"
    )
    data = json.loads(results.read_text())
    statuses = {entry["id"]: entry["status"] for entry in data["exercises"]}
    assert statuses == {
        "numerical_gradient": "done",
        "activations": "failing",
        "linear": "failing",
        # its forgery runs at exit, and its worker never exits: the judge ends it
        "softmax_cross_entropy": "done",
        "init": "failing",
    }, out
    linear = next(entry for entry in data["exercises"] if entry["id"] == "linear")
    said = " ".join(test.get("message", "") for test in linear["tests"])
    assert (
        "PermissionError" in said  # the worker runs as nobody: it cannot write there
        or "changed tests/conftest.py (put back)" in said  # it runs as root: the guard undoes it
    ), said
    assert "init.py uses the answers in reference/" in out, out
    assert "Traceback" not in out


LINGER = """\
import sys
from pathlib import Path
sys.path.insert(0, {repository!r})
from kata.sandbox import Worker, adopt_orphans, end_orphans

assert adopt_orphans()
worker = Worker("exercises", Path({package!r}), Path({repository!r}) / "toolkit", "linger")
worker.module("exercises.linger").leave_a_daemon()
worker.stop()
print("ended", end_orphans())
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux's /proc")
def test_a_process_left_by_the_code_under_test_is_ended_with_its_worker(tmp_path):
    package = tmp_path / "exercises"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "linger.py").write_text(
        textwrap.dedent(
            """\
            import os, time

            def leave_a_daemon():
                if os.fork() == 0:  # a child, whose own child outlives it: a daemon
                    if os.fork() == 0:
                        time.sleep(60)  # waiting to act after the grade
                    os._exit(0)
            """
        )
    )
    script = LINGER.format(repository=str(REPOSITORY), package=str(package))
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ended ") and done.stdout != "ended 0\n", done.stdout
    left = processes_mentioning(package)  # the worker's copies live in a folder of this name
    assert left == [], f"the daemon outlived its worker: processes {left}"
