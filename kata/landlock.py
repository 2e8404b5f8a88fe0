"""Confine a process with Linux's Landlock: no writes outside one folder, no signals out.

The worker that runs the code under test (:mod:`kata.sandbox`) calls :func:`confine` on itself
before it imports that code. From then on, for that process and everything it starts:

- **files**: creating, writing, truncating, renaming, linking or removing anything is refused
  (``PermissionError``) except beneath the worker's own folder (and writing ``/dev/null``);
  reading is left alone. Files opened before the call (the pipes to the judge, the stack
  file) stay usable;
- **TCP** (Landlock ABI 4 and later): binding and connecting are refused;
- **other processes** (ABI 6 and later): signals to processes outside the confinement and
  connections to abstract UNIX sockets outside it are refused; tracing them (and so opening
  their files through ``/proc/<pid>/fd``) is refused at every ABI.

This is what keeps a worker that runs as the judge's own user (the judge is not root, as in
GitHub Classroom) from rewriting the results the judge streams, the judge's files or its
virtual environment, or from signalling or tracing the judge. Landlock needs no privilege; a
kernel without it (before 5.13, or with it disabled, or a seccomp filter that refuses the calls,
as some containers have) leaves the process as it was, and :func:`confine` says so.

The interface is the kernel's (``include/uapi/linux/landlock.h``), called through ``ctypes``:
three system calls, whose numbers are the same on every Linux architecture.
"""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path

SYS_CREATE_RULESET, SYS_ADD_RULE, SYS_RESTRICT_SELF = 444, 445, 446
CREATE_RULESET_VERSION = 1 << 0  # flag: ask the ABI version instead of creating a ruleset
RULE_PATH_BENEATH = 1
PR_SET_NO_NEW_PRIVS = 38

# Filesystem rights (LANDLOCK_ACCESS_FS_*), with the ABI that introduced them.
WRITE_FILE, REMOVE_DIR, REMOVE_FILE = 1 << 1, 1 << 4, 1 << 5
MAKE = sum(1 << bit for bit in range(6, 13))  # char, dir, reg, sock, fifo, block, sym
REFER, TRUNCATE = 1 << 13, 1 << 14  # ABI 2, ABI 3
TCP_BIND, TCP_CONNECT = 1 << 0, 1 << 1  # LANDLOCK_ACCESS_NET_*, ABI 4
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1  # LANDLOCK_SCOPE_*, ABI 6


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1  # __attribute__((packed)) in the kernel's header
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def abi_version() -> int:
    """The Landlock ABI the kernel offers, 0 when it offers none (or is not Linux)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return 0
    version = int(libc.syscall(SYS_CREATE_RULESET, None, 0, CREATE_RULESET_VERSION))
    return max(version, 0)


def confine(writable: Path) -> str:
    """Refuse this process (and its children) every write outside ``writable``, TCP, and
    signals to processes outside; return what was done, in a phrase for the grader's report.

    Nothing is changed, and the phrase says why, when the kernel has no Landlock. Raises
    ``OSError`` when the kernel has Landlock but refuses the ruleset; the caller decides
    whether to go on unconfined.
    """
    abi = abi_version()
    if abi < 1:
        return "not confined: this kernel offers no Landlock"
    libc = ctypes.CDLL(None, use_errno=True)
    folder_rights = WRITE_FILE | REMOVE_DIR | REMOVE_FILE | MAKE
    folder_rights |= (REFER if abi >= 2 else 0) | (TRUNCATE if abi >= 3 else 0)
    attr = _RulesetAttr(
        handled_access_fs=folder_rights,
        handled_access_net=(TCP_BIND | TCP_CONNECT) if abi >= 4 else 0,
        scoped=(SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL) if abi >= 6 else 0,
    )
    size = 8 if abi < 4 else 16 if abi < 6 else ctypes.sizeof(_RulesetAttr)
    ruleset = _checked(libc.syscall(SYS_CREATE_RULESET, ctypes.byref(attr), size, 0))
    try:
        _allow(libc, ruleset, writable, folder_rights)
        _allow(libc, ruleset, Path(os.devnull), WRITE_FILE | (TRUNCATE if abi >= 3 else 0))
        _checked(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
        _checked(libc.syscall(SYS_RESTRICT_SELF, ruleset, 0))
    finally:
        os.close(ruleset)
    scopes = ", no TCP" if abi >= 4 else ""
    scopes += ", no signal to other processes" if abi >= 6 else ""
    return f"confined by Landlock ABI {abi}: writes only under its folder{scopes}"


def _allow(libc: ctypes.CDLL, ruleset: int, path: Path, rights: int) -> None:
    """Allow ``rights`` beneath ``path`` (a folder, or one file)."""
    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    try:
        rule = _PathBeneathAttr(allowed_access=rights, parent_fd=fd)
        _checked(libc.syscall(SYS_ADD_RULE, ruleset, RULE_PATH_BENEATH, ctypes.byref(rule), 0))
    finally:
        os.close(fd)


def _checked(result: int) -> int:
    if result < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"landlock: {os.strerror(errno)}")
    return result


if __name__ == "__main__":  # python -m kata.landlock: does this machine confine the worker?
    version = abi_version()
    print(
        f"Landlock ABI {version}: the grader's workers are confined here"
        if version
        else "no Landlock here: the worker is not confined (kata.guard keeps the judge's files)"
    )
