"""The judge's files, kept as they were before the code under test ran.

When the worker process runs as an unprivileged user (:mod:`kata.sandbox`), or is confined by
Landlock (:mod:`kata.landlock`), the code under test cannot write the judge's files. Where
neither holds (the judge is not root, or ``nobody`` cannot run its Python, and the kernel has
no Landlock), this guard is what holds; it runs in every grade, as a second line. It keeps the
bytes of every file of ``kata/``, ``tests/``, ``toolkit/`` and ``reference/`` and of the
repository's top-level files, checks them after each test (size, modification time and inode
of each, and the files present), puts back whatever changed, removes what appeared, and the
test fails saying what its code wrote. A ``conftest.py`` written at import, a test rewritten,
a results file replaced: none survives the test that did it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from kata.paths import REPOSITORY

GUARDED_FOLDERS = ("kata", "tests", "toolkit", "reference")
SKIPPED = ("__pycache__",)


def _signature(path: Path) -> tuple[int, int, int]:
    status = path.stat()
    return (status.st_size, status.st_mtime_ns, status.st_ino)


class FileGuard:
    """The files under ``roots`` (folders, recursively, and single files), as they were."""

    def __init__(self, roots: Iterable[Path]) -> None:
        self.roots = list(roots)
        self.kept: dict[Path, tuple[tuple[int, int, int], bytes]] = {}
        for path in self._files():
            self.kept[path] = (_signature(path), path.read_bytes())

    def _files(self) -> Iterator[Path]:
        for root in self.roots:
            if root.is_file():
                yield root
            elif root.is_dir():
                for folder, names, files in os.walk(root):
                    names[:] = [name for name in names if name not in SKIPPED]
                    for name in files:
                        if not name.endswith((".pyc", ".pyo")):
                            yield Path(folder) / name

    def restore(self) -> list[str]:
        """Put back every file that changed or went, remove every file that appeared; return
        what was done, one line each (empty when nothing was touched)."""
        done = []
        present = set()
        for path in self._files():
            present.add(path)
            kept = self.kept.get(path)
            if kept is None:
                path.unlink(missing_ok=True)
                done.append(f"wrote {_shown(path)} (removed)")
            elif _signature(path) != kept[0]:
                path.write_bytes(kept[1])
                self.kept[path] = (_signature(path), kept[1])
                done.append(f"changed {_shown(path)} (put back)")
        for path in set(self.kept) - present:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(self.kept[path][1])
            self.kept[path] = (_signature(path), self.kept[path][1])
            done.append(f"removed {_shown(path)} (put back)")
        return sorted(done)


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(REPOSITORY))
    except ValueError:
        return str(path)


def judge_files() -> list[Path]:
    """What the guard keeps: the judge's folders and the repository's top-level files."""
    top = [path for path in REPOSITORY.iterdir() if path.is_file()]
    return [*(REPOSITORY / name for name in GUARDED_FOLDERS), *top]
