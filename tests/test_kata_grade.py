"""The grader (kata/grade.py) and its pytest plugin (kata/report.py), on fake records."""

from __future__ import annotations

import sys
import textwrap

from kata.curriculum import Exercise
from kata.grade import (
    DONE,
    IN_PROGRESS,
    NO_TESTS,
    NOT_STARTED,
    Record,
    describe_next,
    describe_problems,
    next_exercise,
    progress,
    pytest_command,
    render_table,
    run_tests,
    status_of,
    stub_defects,
    summary,
    trim,
)
from kata.report import is_not_implemented, short_message

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
    elsewhere = describe_next(next_exercise(rows), len(rows), impl_dir="/tmp/mine")
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
    ]
    assert "Next:" not in summary([row], all_exercises=False)


def test_trim_keeps_a_few_lines_and_says_what_was_cut():
    message = "\n".join(f"line {number}" for number in range(40))
    trimmed = trim(message, max_lines=15).splitlines()
    assert len(trimmed) == 15
    assert trimmed[0] == "line 0" and trimmed[13] == "line 13"
    assert trimmed[-1] == "... (26 more lines)"
    assert trim("short\n") == "short"


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
    command = pytest_command(report, ids=["linear"], impl_dir="/stubs")
    assert command[1:6] == ["-m", "pytest", "tests", "--impl", "exercises"]
    assert command[6:8] == ["-p", "kata.report"] and "--tb=no" in command
    assert command[-4:] == ["--impl-dir", "/stubs", "--exercise", "linear"]
    assert "--tb=short" in pytest_command(report, verbose=True)


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
    command = [sys.executable, "-m", "pytest", "test_fake.py", "-p", "kata.report"]
    command += ["--kata-report", str(report), "-q", "-p", "no:cacheprovider"]
    command += ["-o", "markers=exercise", "-W", "ignore::pytest.PytestUnknownMarkWarning"]
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
