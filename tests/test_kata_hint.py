"""``nox -s hint -- <id>`` (kata/hint.py): one level per call, remembered in a state file."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from kata.curriculum import EXERCISE_IDS
from kata.generate import REPOSITORY
from kata.hint import main, read_state


@pytest.fixture
def state(tmp_path):
    return tmp_path / ".kata" / "hints.json"


def hint(capsys, state, *arguments: str) -> tuple[int, str, str]:
    status = main([*arguments, "--state", str(state)])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_each_call_prints_the_next_level_and_remembers_it(capsys, state):
    status, first, _ = hint(capsys, state, "linear")
    assert status == 0
    assert first.startswith("linear: hint 1 of 4\n")
    assert 'Linear.backward_params: Start with grads["W"]' in first
    assert "hint 2 of 4" not in first
    assert "(next hint: nox -s hint -- linear)" in first
    assert json.loads(state.read_text()) == {"linear": 1}
    _, second, _ = hint(capsys, state, "linear")
    assert second.startswith("linear: hint 2 of 4\n") and "hint 1 of 4" not in second
    assert read_state(state) == {"linear": 2}


def test_after_the_last_level_it_repeats_it_and_points_to_the_solution(capsys, state):
    for _ in range(4):
        hint(capsys, state, "linear")
    _, again, _ = hint(capsys, state, "linear")
    assert again.startswith("linear: hint 4 of 4\n")
    assert "solutions/linear.md" in again and "--reset" in again


def test_all_prints_every_level_in_order(capsys, state):
    _, text, _ = hint(capsys, state, "linear", "--all")
    positions = [text.index(f"linear: hint {level} of 4") for level in (1, 2, 3, 4)]
    assert positions == sorted(positions)
    assert read_state(state) == {"linear": 4}


def test_reset_starts_one_exercise_over_and_keeps_the_others(capsys, state):
    hint(capsys, state, "linear")
    hint(capsys, state, "activations")
    hint(capsys, state, "linear")
    status, text, _ = hint(capsys, state, "linear", "--reset")
    assert status == 0 and "start over" in text
    assert read_state(state) == {"activations": 1}
    _, text, _ = hint(capsys, state, "linear")
    assert text.startswith("linear: hint 1 of 4")


def test_reset_without_an_exercise_starts_every_exercise_over(capsys, state):
    hint(capsys, state, "linear")
    hint(capsys, state, "--reset")
    assert read_state(state) == {}


def test_an_unknown_id_lists_the_valid_ones(capsys, state):
    status, _, error = hint(capsys, state, "lineaire")
    assert status == 2
    assert "no exercise 'lineaire'" in error
    assert all(exercise_id in error for exercise_id in EXERCISE_IDS)
    assert not state.exists()


def test_no_id_lists_the_exercises_with_the_level_reached(capsys, state):
    hint(capsys, state, "linear")
    _, text, _ = hint(capsys, state)
    assert "usage: nox -s hint -- <exercise>" in text
    lines = {line.split()[0]: line for line in text.splitlines() if line.startswith("  ")}
    assert "hint 1 seen" in lines["linear"] and "no hint yet" in lines["activations"]


def test_a_corrupt_state_file_starts_over(capsys, state):
    state.parent.mkdir()
    state.write_text('{"linear": "two", "nope": 3, "activations": 9')
    _, text, _ = hint(capsys, state, "linear")
    assert text.startswith("linear: hint 1 of 4")
    state.write_text('{"linear": 7, "softmax_cross_entropy": 2}')
    assert read_state(state) == {"softmax_cross_entropy": 2}


def test_hints_print_no_solution_code(capsys, state):
    _, text, _ = hint(capsys, state, "linear", "--all")
    for code in ("x.T @ dout", "dout @ W.T", ".sum(axis=0)", "self.grads"):
        assert code not in text


def test_the_module_runs_as_a_command(state):
    result = subprocess.run(
        [sys.executable, "-m", "kata.hint", "linear", "--state", str(state)],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.startswith("linear: hint 1 of 4")


def test_the_state_file_is_ignored_by_git():
    assert ".kata/" in (REPOSITORY / ".gitignore").read_text().splitlines()
