"""toolkit.files.atomic_file: all of the file, or the old file untouched."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from toolkit.files import atomic_file


def test_writes_the_file_with_ordinary_permissions(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    with atomic_file(target) as file:
        file.write(b"all of it")
    assert target.read_bytes() == b"all of it"
    assert target.stat().st_mode & 0o777 == 0o644
    assert os.listdir(tmp_path) == ["out.bin"]


def test_an_error_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    target.chmod(0o600)
    with pytest.raises(RuntimeError), atomic_file(target) as file:
        file.write(b"half")
        raise RuntimeError("interrupted")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["out.bin"]
    with atomic_file(target) as file:
        file.write(b"new")
    assert target.stat().st_mode & 0o777 == 0o600, "the permissions of the replaced file stay"


def test_an_interruption_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    with pytest.raises(KeyboardInterrupt), atomic_file(target) as file:
        file.write(b"half")
        raise KeyboardInterrupt
    assert os.listdir(tmp_path) == []


def test_a_missing_folder_is_an_error_that_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError), atomic_file(tmp_path / "no" / "out.bin"):
        pass
    assert os.listdir(tmp_path) == []
