"""The grader (kata/grade.py), its pytest plugin (kata/pytest_plugin.py) and its messages
(kata/report.py): on fake records, then on planted infinite loops and crashes, graded for real
with time limits scaled down so that each costs seconds."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from types import SimpleNamespace

import pytest

from kata.curriculum import CURRICULUM as KATA_CURRICULUM
from kata.curriculum import Exercise, exercise, exercise_modules
from kata.grade import (
    BLOCKED,
    CACHED,
    DONE,
    IN_PROGRESS,
    NO_TESTS,
    NOT_STARTED,
    STREAK_FOR_HINT,
    Options,
    Record,
    after_focused,
    blocked,
    describe_next,
    describe_problems,
    files_to_collect,
    hint_pointer,
    junit,
    next_exercise,
    plan,
    progress,
    pytest_command,
    render_table,
    results,
    run_tests,
    status_of,
    stub_defects,
    summary,
    trim,
    update_state,
)
from kata.grade import _Child as Child
from kata.grade import _disagreement as disagreement
from kata.paths import REPOSITORY
from kata.pytest_plugin import CACHED as CACHED_KEY
from kata.pytest_plugin import TIME_LIMITS, CapstoneCache, Implementation
from kata.report import is_not_implemented, short_message
from kata.sandbox import WORKER_SCRIPT
from tests.processes import cpu_seconds, processes_mentioning

SCALE = 0.05  # a component test's 60 s limit becomes 3 s

CURRICULUM = (
    Exercise("relu", "ReLU", "activations", ("ReLU",)),
    Exercise("linear", "The affine layer", "linear", ("Linear",)),
    Exercise("conv", "Convolution, vectorized", "conv", ("im2col", "Conv2d")),
)


def passed(exercise: str, name: str = "test_a") -> Record:
    return Record(f"tests/test_{exercise}.py::{name}", exercise, "passed")


def stub(exercise: str, name: str = "test_b") -> Record:
    message = f"NotImplementedError: {exercise}: implement it"
    return Record(f"tests/test_{exercise}.py::{name}", exercise, "failed", message, True)


def wrong(exercise: str, name: str = "test_c", message: str = "dx is off") -> Record:
    return Record(f"tests/test_{exercise}.py::{name}", exercise, "failed", message)


def test_status_classification():
    assert status_of([]) == NO_TESTS
    assert status_of([passed("relu"), passed("relu", "test_z")]) == DONE
    assert status_of([stub("relu"), stub("relu", "test_z")]) == NOT_STARTED
    assert status_of([stub("relu"), passed("relu")]) == IN_PROGRESS
    assert status_of([stub("relu"), wrong("relu")]) == IN_PROGRESS, "code runs but is wrong"
    skipped = Record("tests/test_relu.py::test_s", "relu", "skipped", "no MNIST")
    assert status_of([passed("relu"), skipped]) == IN_PROGRESS, "a skip is not a pass"


def test_progress_follows_the_curriculum_and_counts_tests():
    records = [wrong("conv"), passed("linear"), stub("linear"), passed("relu"), passed("conv")]
    rows = progress(CURRICULUM, records)
    assert [row.exercise.id for row in rows] == ["relu", "linear", "conv"]
    assert [(row.status, row.passed, row.total) for row in rows] == [
        (DONE, 1, 1),
        (IN_PROGRESS, 1, 2),
        (IN_PROGRESS, 1, 2),
    ]
    assert rows[1].problems == (stub("linear"),)


def test_problems_list_failures_before_skips():
    skipped = Record("tests/test_conv.py::test_s", "conv", "skipped", "slow")
    (row,) = progress(CURRICULUM[2:], [skipped, wrong("conv")])
    assert row.problems == (wrong("conv"), skipped)


def test_table_rendering_is_aligned_in_curriculum_order():
    rows = progress(CURRICULUM, [passed("relu"), stub("linear"), wrong("conv"), passed("conv")])
    assert render_table(rows).splitlines() == [
        "exercise  title                    status       tests",
        "relu      ReLU                     done         1/1",
        "linear    The affine layer         not started  0/1",
        "conv      Convolution, vectorized  in progress  1/2",
    ]


def test_next_exercise_is_the_first_not_done():
    rows = progress(CURRICULUM, [passed("relu"), passed("linear"), wrong("conv")])
    assert next_exercise(rows).exercise.id == "conv"
    rows = progress(CURRICULUM, [stub("relu"), passed("linear"), wrong("conv")])
    assert next_exercise(rows).exercise.id == "relu", "an earlier exercise comes first"
    rows = progress(CURRICULUM, [passed("relu"), passed("linear"), passed("conv")])
    assert next_exercise(rows) is None


def test_next_exercise_names_its_file_functions_and_first_failing_check():
    rows = progress(CURRICULUM, [passed("relu"), passed("linear"), wrong("conv"), stub("conv")])
    text = describe_next(next_exercise(rows), len(rows))
    assert text.splitlines() == [
        "Next: conv: implement im2col, Conv2d in exercises/conv.py",
        "First failing check: tests/test_conv.py::test_c",
        "    dx is off",
        'Run it alone: python -m pytest "tests/test_conv.py::test_c" --impl exercises',
    ]
    assert "All 3 exercises done" in describe_next(None, 3)
    elsewhere = describe_next(next_exercise(rows), len(rows), "/tmp/mine")
    assert elsewhere.splitlines()[-1].endswith("--impl exercises --impl-dir /tmp/mine"), (
        "the command to re-run one check must judge the same code the grader judged"
    )


def test_summary_counts_done_exercises_and_ends_with_the_next_one():
    rows = progress(CURRICULUM, [passed("relu"), stub("linear"), stub("conv")])
    text = summary(rows, all_exercises=True)
    assert "\n\n1 of 3 exercises done.\n\nNext: linear: implement Linear" in text


def test_selected_exercises_show_every_failing_check_briefly():
    records = [
        wrong("conv", "test_1", "first\nmessage"),
        stub("conv", "test_2"),
        stub("conv", "test_3"),
        passed("conv"),
    ]
    (row,) = progress(CURRICULUM[2:], records)
    assert describe_problems(row).splitlines() == [
        "conv: 3 of 4 checks do not pass",
        "  FAILED tests/test_conv.py::test_1",
        "      first",
        "      message",
        "  FAILED tests/test_conv.py::test_2 (and 1 more with the same message)",
        "      NotImplementedError: conv: implement it",
        'Run it alone: python -m pytest "tests/test_conv.py::test_1" --impl exercises',
    ]
    assert "Next:" not in summary([row], all_exercises=False)


def test_trim_keeps_a_few_lines_and_says_what_was_cut():
    message = "\n".join(f"line {number}" for number in range(40))
    trimmed = trim(message, max_lines=15).splitlines()
    assert len(trimmed) == 15
    assert trimmed[0] == "line 0" and trimmed[13] == "line 13"
    assert trimmed[-1] == "... (26 more lines)"
    assert trim("short\n") == "short"
    shown = trim(message, max_lines=15, more="python -m kata.grade conv --full")
    assert shown.splitlines()[-1] == "... (26 more lines: python -m kata.grade conv --full)"


def test_a_cut_message_says_how_to_see_it_whole():
    records = [wrong("conv", "test_1", "\n".join(f"line {n}" for n in range(30)))]
    (row,) = progress(CURRICULUM[2:], records)
    assert "more lines: python -m kata.grade conv --full)" in describe_problems(row)
    assert "line 29" in describe_problems(row, full=True)
    assert "more lines: python -m kata.grade conv --full)" in describe_next(row, 3)


def test_trim_wraps_long_lines_instead_of_cutting_them():
    hint = "likely mistake: " + " ".join(f"word{number}" for number in range(40))
    wrapped = trim(hint, max_width=50).splitlines()
    assert all(len(line) <= 50 for line in wrapped)
    assert " ".join(line.strip() for line in wrapped) == hint
    assert wrapped[1].startswith("  "), "continuation lines are indented"


def test_stub_defects_are_tests_passing_on_stubs_and_exercises_without_tests():
    records = [stub("relu"), passed("linear", "test_shape"), Record("t.py::k", None, "passed")]
    defects = stub_defects(CURRICULUM, records)
    assert len(defects) == 2
    assert defects[0].startswith("PASSED on the stubs: tests/test_linear.py::test_shape")
    assert defects[1].startswith("no test: exercise 'conv'")
    assert stub_defects(CURRICULUM[:1], [stub("relu")]) == []


def test_pytest_command_grades_exercises_without_tracebacks(tmp_path):
    report = tmp_path / "r.jsonl"
    options = Options(impl_dir="/stubs", time_limit_scale=0.5, retrain=True)
    command = pytest_command(report, ids=["linear"], options=options)
    files = files_to_collect(["linear"])
    assert command[1:3] == ["-m", "pytest"] and command[3 : 3 + len(files)] == files
    assert "tests/test_linear.py" in files, files
    rest = command[3 + len(files) :]
    assert rest[:2] == ["--impl", "exercises"], rest
    assert rest[2:4] == ["-p", "kata.pytest_plugin"] and "--tb=no" in command
    assert command[-4:] == ["--impl-dir", "/stubs", "--exercise", "linear"]
    assert "--retrain" in command and "0.5" in command
    assert "--tb=short" in pytest_command(report, options=Options(verbose=True))


def test_short_messages_drop_pytest_assertion_introspection():
    try:
        dtype = "float64"
        assert dtype == "float32", "Linear.forward returned float64 for a float32 x"
    except AssertionError as error:
        message = short_message(error)
    assert message == "Linear.forward returned float64 for a float32 x"


def test_short_messages_carry_no_traceback():
    def raise_error() -> None:
        raise ValueError("shapes (2, 3) and (4,) not aligned")

    try:
        raise_error()
    except ValueError as error:
        message = short_message(error)
    assert message.startswith("ValueError: shapes (2, 3) and (4,) not aligned\n  raised at ")
    assert message.endswith(f"line {raise_error.__code__.co_firstlineno + 1}")
    assert short_message(AssertionError("dx is off by N")) == "dx is off by N"
    try:
        try:
            raise NotImplementedError("linear: implement Linear.forward")
        except NotImplementedError as inner:
            raise AssertionError("forward failed") from inner
    except AssertionError as outer:
        assert is_not_implemented(outer)
    assert not is_not_implemented(ValueError("no"))


class MultipleFailuresError(Exception):
    """Stands for the exception group hypothesis raises (``exceptiongroup`` on Python 3.10)."""

    def __init__(self, *exceptions: Exception) -> None:
        super().__init__("Hypothesis found several distinct failures")
        self.exceptions = exceptions


def test_several_distinct_failures_are_each_described():
    group = MultipleFailuresError(AssertionError("dx off"), ValueError("bad"))
    assert short_message(group).splitlines() == [
        "2 distinct failures:",
        "- dx off",
        "- ValueError: bad",
    ]


def test_the_plugin_records_each_test_in_a_tiny_run(tmp_path):
    (tmp_path / "test_fake.py").write_text(
        textwrap.dedent(
            """\
            import pytest

            pytestmark = pytest.mark.exercise("linear")

            def test_pass():
                pass

            def test_stub():
                raise NotImplementedError("linear: implement Linear.forward")

            def test_wrong():
                assert 1 == 2, "dx is off by the batch size"

            def test_skip():
                pytest.skip("MNIST is not available")
            """
        )
    )
    report = tmp_path / "results.jsonl"
    command = [sys.executable, "-m", "pytest", "test_fake.py", "-p", "kata.pytest_plugin"]
    command += ["--kata-report", str(report), "-q", "-p", "no:cacheprovider"]
    records = {
        record.nodeid.split("::")[1]: record for record in run_tests(command, report, tmp_path)
    }
    assert {name: record.outcome for name, record in records.items()} == {
        "test_pass": "passed",
        "test_stub": "failed",
        "test_wrong": "failed",
        "test_skip": "skipped",
    }
    assert all(record.exercise == "linear" for record in records.values())
    assert records["test_stub"].not_implemented and not records["test_wrong"].not_implemented
    assert records["test_wrong"].message.startswith("dx is off by the batch size")
    assert records["test_skip"].message == "MNIST is not available"
    assert "Traceback" not in "".join(record.message for record in records.values())


# ------------------------------------------------------------------ capstones and state


def test_capstones_come_after_their_prerequisites():
    first, capstones = plan(["lenet5"])
    assert [item.id for item in capstones] == ["lenet5"]
    assert first == [i for i in exercise("lenet5").requires], "in curriculum order"
    first, capstones = plan([])
    assert [item.id for item in capstones] == [e.id for e in KATA_CURRICULUM if e.capstone]
    assert "lenet5" not in first and "linear" in first
    assert plan(["linear"]) == (["linear"], [])


def test_every_capstone_requires_earlier_exercises_and_scores_more():
    for index, item in enumerate(KATA_CURRICULUM):
        earlier = {e.id for e in KATA_CURRICULUM[:index]}
        assert set(item.requires) <= earlier, item.id
        assert item.points == (20.0 if item.capstone else 10.0), item.id
    assert "conv" in exercise("lenet5").requires and "linear" in exercise("mnist_mlp").requires


def test_a_blocked_capstone_names_what_to_finish_first():
    row = blocked(exercise("lenet5"), ["conv", "pool"])
    assert row.status == BLOCKED and not row.done
    assert "first finish conv, pool (python -m kata.grade conv pool)" in row.note
    assert render_table([row]).splitlines()[1].split()[-2:] == ["blocked", "-"]
    assert "blocked" in describe_problems(row) and "conv, pool" in describe_next(row, 13)


def test_a_reused_result_counts_as_done_and_is_marked_cached():
    reused = Record("tests/test_models.py::test_lenet5", "lenet5", "passed", cached=True)
    assert status_of([reused, Record("tests/test_models.py::t", "lenet5", "passed")]) == CACHED
    (row,) = progress([exercise("lenet5")], [reused])
    assert row.done and "cached" in render_table([row])


def test_a_focused_grade_that_turns_done_names_the_next_exercise():
    real = progress([exercise("linear")], [passed("linear")])
    known = {"numerical_gradient": DONE, "activations": DONE, "softmax_cross_entropy": DONE}
    text = summary(real, all_exercises=False, known=known)
    assert text.endswith(
        "linear: done. Next: init: implement fans, lecun_normal, xavier_uniform, "
        "xavier_normal, he_normal in exercises/init.py (python -m kata.grade init)"
    ), text
    known = {e.id: DONE for e in KATA_CURRICULUM if e.id != "numerical_gradient"}
    assert "Next: numerical_gradient:" in after_focused(real, known), "an earlier one left"
    known["numerical_gradient"] = DONE
    assert "run python -m kata.grade to confirm" in after_focused(real, known)


def test_the_hint_command_follows_three_failing_grades_of_one_check():
    state = {"status": {}, "streaks": {}}
    failing = progress(CURRICULUM[1:2], [wrong("linear"), passed("linear")])
    for grade_number in range(1, STREAK_FOR_HINT + 1):
        assert not hint_pointer(failing, state["streaks"]), "not before the third"
        state = update_state(state, failing)
        assert state["streaks"]["tests/test_linear.py::test_c"] == grade_number
    assert hint_pointer(failing, state["streaks"]) == (
        "tests/test_linear.py::test_c has failed 3 grades in a row. "
        "For a hint: nox -s hint -- linear"
    )
    assert state["status"] == {"linear": IN_PROGRESS}
    fixed = progress(CURRICULUM[1:2], [passed("linear", "test_c")])
    assert update_state(state, fixed)["streaks"] == {}, "a pass resets the count"
    on_stub = progress(CURRICULUM[1:2], [stub("linear")])
    assert update_state(state, on_stub)["streaks"] == state["streaks"] | {}, (
        "a stub is not a learner's attempt"
    )


def test_results_follow_the_agreed_format_and_junit_has_one_case_per_exercise():
    rows = progress(CURRICULUM, [passed("relu"), wrong("linear"), passed("linear", "t2")])
    rows[2] = blocked(CURRICULUM[2], ["linear"])
    data = results(rows)
    assert (data["schema"], data["impl"], data["done"], data["total"]) == (1, "exercises", 1, 3)
    assert (data["score"], data["max_score"]) == (10.0, 30.0)
    relu, linear, conv = data["exercises"]
    assert set(relu) == {
        "id", "title", "module", "status", "passed", "failed", "total", "points",
        "max_points", "message", "tests",
    }  # fmt: skip
    assert (relu["status"], relu["points"], relu["tests"][0]["outcome"]) == ("done", 10.0, "passed")
    assert (linear["status"], linear["passed"], linear["failed"], linear["points"]) == (
        "failing", 1, 1, 0.0,
    )  # fmt: skip
    assert "dx is off" in linear["message"] and conv["status"] == "blocked"
    suite = ElementTree.fromstring(junit(data))
    assert [case.get("name") for case in suite] == ["relu", "linear", "conv"]
    assert suite.get("failures") == "2" and suite[1].find("failure") is not None


def test_the_capstone_cache_reuses_a_result_only_for_the_same_inputs(tmp_path):
    package = tmp_path / "exercises"
    package.mkdir()
    for module in exercise_modules():
        (package / f"{module}.py").write_text(f"# {module}\n")
    test_file = tmp_path / "test_models.py"
    test_file.write_text("# the test\n")
    item = SimpleNamespace(nodeid="tests/test_models.py::test_mlp", path=test_file, stash={})
    impl = Implementation("exercises", package)
    cache = CapstoneCache(item, tmp_path / ".kata" / "capstones.json", enabled=True, retrain=False)
    key = cache.key(impl, "mnist_mlp", epochs=3)
    assert cache.lookup(key) is None
    cache.store(key, passed=True, report="mlp: 98%")
    assert cache.lookup(key) == {"key": key, "passed": True, "report": "mlp: 98%"}
    assert item.stash[CACHED_KEY] is True
    assert cache.key(impl, "mnist_mlp", epochs=2) != key, "the recipe's epochs"
    (package / "pool.py").write_text("# changed, but the MLP does not use it\n")
    assert cache.key(impl, "mnist_mlp", epochs=3) == key
    (package / "linear.py").write_text("# changed\n")
    assert cache.key(impl, "mnist_mlp", epochs=3) != key, "a prerequisite's file"
    forced = CapstoneCache(item, cache.path, enabled=True, retrain=True)
    assert forced.lookup(key) is None, "--retrain"
    (tmp_path / ".kata" / "capstones.json").write_text("not json")
    assert cache.lookup(key) is None, "a damaged cache is a miss, not an error"


def test_time_limits_are_set_by_kind():
    assert TIME_LIMITS["capstone"] >= 10 * TIME_LIMITS["component"]


# ------------------------------------------------------------- planted loops and crashes


def planted_copy(root: Path, plants: dict[tuple[str, str], str]) -> Path:
    """``root/exercises``: the reference's exercise modules, with ``code`` inserted at the top
    of each method ``(class, method)`` of ``plants`` (in the module that defines the class)."""
    package = root / "exercises"
    package.mkdir()
    (package / "__init__.py").write_text('"""A planted copy of the reference."""\n')
    for module in exercise_modules():
        shutil.copy(REPOSITORY / "reference" / f"{module}.py", package / f"{module}.py")
    for (class_name, method), code in plants.items():
        for path in package.glob("*.py"):
            source = path.read_text()
            start = source.find(f"\nclass {class_name}(")
            if start < 0:
                continue
            definition = source.index(f"    def {method}(", start)
            body = source.index(":\n", definition) + 2
            inserted = textwrap.indent(textwrap.dedent(code), " " * 8)
            path.write_text(source[:body] + inserted + source[body:])
            break
        else:
            raise AssertionError(f"no class {class_name} in reference/")
    return root


def run_grader(*arguments: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "kata.grade", *arguments]
    return subprocess.run(
        command, cwd=REPOSITORY, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_a_planted_loop_and_a_planted_exit_fail_their_own_exercise_only(tmp_path):
    root = planted_copy(
        tmp_path,
        {
            ("Linear", "forward"): "while True:\n    pass\n",
            ("ReLU", "forward"): "import os\nos._exit(3)\n",
        },
    )
    result = run_grader(
        "numerical_gradient", "activations", "linear", "--impl-dir", str(root),
        "--time-limit-scale", str(SCALE), "--results", str(tmp_path / "r.json"),
    )  # fmt: skip
    out = " ".join(result.stdout.split())  # the grader wraps long lines
    assert result.returncode == 1, "not every exercise is done"
    assert "1 of 3 exercises done" in out, out
    assert "TIMEOUT tests/test_linear.py::" in out, out
    assert "time limit: the test did not finish within 3 s" in out
    assert "stopped in Linear.forward (" in out and "linear.py, line" in out, out
    assert "CRASHED tests/test_activations.py::" in out, out
    assert "os._exit(3) was called, in ReLU.forward (" in out, out
    assert "Traceback" not in out + result.stderr
    data = json.loads((tmp_path / "r.json").read_text())
    statuses = {entry["id"]: entry["status"] for entry in data["exercises"]}
    assert statuses == {
        "numerical_gradient": "done", "activations": "failing", "linear": "failing",
    }  # fmt: skip
    linear = next(entry for entry in data["exercises"] if entry["id"] == "linear")
    outcomes = {test["outcome"] for test in linear["tests"]}
    assert outcomes == {"timeout", "skipped"}, "the rest of a stopped exercise is skipped"
    assert data["score"] == 10.0 and data["max_score"] == 30.0


def test_code_that_swallows_the_interruption_is_stopped_at_its_limit(tmp_path):
    # the worker process running it is ended at the limit, whatever the code catches
    loop = """\
        import time
        while True:
            try:
                time.sleep(0.01)
            except BaseException:
                pass
        """
    root = planted_copy(tmp_path, {("Linear", "forward"): loop})
    result = run_grader("linear", "--impl-dir", str(root), "--time-limit-scale", str(SCALE))
    out = " ".join(result.stdout.split())
    assert "TIMEOUT tests/test_linear.py::" in out, out
    assert "stopped in Linear.forward (" in out, out
    assert "The process was ended" not in out, "stopped at the limit, not at the hard limit"


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs /proc")
def test_ctrl_c_ends_the_grade_cleanly_and_says_where_it_was(tmp_path):
    root = planted_copy(tmp_path, {("Linear", "forward"): "while True:\n    pass\n"})
    command = [sys.executable, "-m", "kata.grade", "linear", "--impl-dir", str(root)]
    grader = subprocess.Popen(
        command, cwd=REPOSITORY, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not any(  # until the worker spins in the loop
            cpu_seconds(pid) > 1.5  # (a confined worker can write no marker file for the test)
            for pid in set(processes_mentioning(WORKER_SCRIPT)) & set(processes_mentioning(root))
        ):
            time.sleep(0.2)
        grader.send_signal(signal.SIGINT)
        out, err = grader.communicate(timeout=30)
    finally:
        grader.kill()
    assert grader.returncode == 130
    assert "grading interrupted in exercise linear, test tests/test_linear.py::" in err, err
    assert "Traceback" not in out + err
    time.sleep(0.5)
    assert processes_mentioning(str(root)) == [], "the pytest child outlived the grader"


def test_limits_marks_import_exits_and_lingering_threads_in_a_tiny_run(tmp_path, monkeypatch):
    package = tmp_path / "impl" / "exercises"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "slow.py").write_text("def spin():\n    while True:\n        pass\n")
    (package / "bad.py").write_text("import sys\nsys.exit(2)\n")
    (package / "lingering.py").write_text(
        "import threading, time\nthreading.Thread(target=time.sleep, args=(3600,)).start()\n"
    )
    (tmp_path / "test_fake.py").write_text(
        textwrap.dedent(
            """\
            import pytest

            pytestmark = pytest.mark.exercise("linear")

            @pytest.mark.time_limit(1)
            def test_spins(impl):
                impl.slow.spin()

            def test_after_the_timeout(impl):
                pass

            @pytest.mark.exercise("init")
            def test_exits_at_import(impl):
                impl.bad

            @pytest.mark.exercise("init")
            def test_starts_a_thread_that_never_ends(impl):
                impl.lingering
            """
        )
    )
    monkeypatch.setattr("kata.grade.EXIT_GRACE", 1.0)
    report = tmp_path / "results.jsonl"
    command = [sys.executable, "-m", "pytest", "test_fake.py", "-p", "kata.pytest_plugin"]
    command += ["--impl", "exercises", "--impl-dir", str(tmp_path / "impl")]
    command += ["--kata-report", str(report), "-q", "-p", "no:cacheprovider"]
    records = {
        record.nodeid.split("::")[1]: record
        for record in run_tests(command, report, tmp_path, impl_root=package)
    }
    spins = records["test_spins"]
    assert spins.outcome == "timeout", spins
    assert "did not finish within 1 s" in spins.message
    assert "stopped in spin (impl/exercises/slow.py, line " in spins.message, spins.message
    after = records["test_after_the_timeout"]
    assert (after.outcome, after.message) == (
        "skipped",
        "not run: test_fake.py::test_spins hit its time limit",
    )
    exits = records["test_exits_at_import"]
    assert exits.outcome == "failed" and "cannot import exercises.bad: SystemExit: 2" in (
        exits.message
    )
    assert records["test_starts_a_thread_that_never_ends"].outcome == "passed"


def test_a_focused_grade_collects_only_the_files_that_may_hold_its_tests(tmp_path: Path) -> None:
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test_linear.py").write_text('pytestmark = pytest.mark.exercise("linear")\n')
    (tests / "test_pool.py").write_text('pytestmark = pytest.mark.exercise("pool")\n')
    (tests / "test_across.py").write_text("marks=pytest.mark.exercise(case.exercise)\n")
    (tests / "test_kata_tool.py").write_text('pytest.mark.exercise("linear")\n')
    assert files_to_collect(["linear"], tests) == ["tests/test_across.py", "tests/test_linear.py"]
    assert files_to_collect([], tests) == ["tests"]


def test_results_that_the_exit_status_contradicts_are_no_grade():
    passed = {"nodeid": "t::a", "outcome": "passed"}
    failed = {"nodeid": "t::b", "outcome": "failed"}
    assert disagreement(Child(results=[passed, failed], returncode=1)) == ""
    assert disagreement(Child(results=[passed], returncode=0)) == ""
    assert disagreement(Child(results=[], returncode=5)) == "", "nothing collected"
    forged = disagreement(Child(results=[passed, dict(failed, outcome="passed")], returncode=1))
    assert "exit status 1 says some tests failed, but the results it streamed say none did" in (
        forged
    )
    assert "no grade" in disagreement(Child(results=[passed, failed], returncode=0))
