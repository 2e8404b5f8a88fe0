"""The code under test runs in a process of its own, and the judge talks to it through a pipe.

Why: code in an exercise file that ran inside the judge's process could replace the judge's
checks in memory, rewrite the results, or end the process with the grade in it. Here the judge
(the pytest process) never imports the graded package. A *worker* process does, and every use
the tests make of it (``impl.linear.Linear(3, 4)``, ``layer.forward(x)``, ``layer.params["W"]
*= 2``) is a request on a pipe, answered by the worker. The anchor is pytest-prairielearn-grader's
design (student code in its own subprocess, driven through a narrow channel, with timeouts and,
as root, without privileges); it is rebuilt here on what the kata needs: numpy arrays changed in
place on either side, and objects of either side handed to the other.

The worker, one per exercise graded (:class:`Worker`):

- runs ``python -I <folder>/_kata_worker.py`` from a fresh temporary folder that holds copies of
  ``toolkit/``, of this module and :mod:`kata.copies`, and of the graded package; the repository
  is not on its path, so ``reference`` does not import there;
- runs as the user ``nobody`` when the judge runs as root (Gradescope, CI) and ``nobody`` can
  run this Python, so it can write nothing of the judge's; it is killed when the judge ends;
- confines itself with Landlock before it imports the code under test, where the kernel has it
  (:mod:`kata.landlock`): whatever its user, it then writes nothing outside its folder, and
  cannot signal or trace the judge (nor open the judge's pipes through ``/proc``);
- writes its stack, through :mod:`faulthandler`, to a file the judge reads when a test runs past
  its time limit, or when the worker ends (``os._exit``, a crash): the test then fails naming
  the learner's function.

What crosses the pipe (:class:`Peer`):

- plain values, copied: ``None``, ``bool``, ``int``, ``float``, ``complex``, ``str``, ``bytes``,
  tuples, sets, slices, numpy scalars, dtypes and numpy scalar types;
- numpy arrays, lists, dicts and random Generators as *mirrors*: each side has its own copy of the
  object, and every message carries the changes made to the copies since the last message, so
  an array changed in place on one side is changed on the other before the next call runs (a
  gradient check perturbing a parameter, an optimizer stepping it, a layer caching its input).
  The same object sent twice arrives as the same object, so identity checks still hold;
- everything else (functions, classes, modules, instances) *by reference*: the receiver gets a
  :class:`Remote` whose attribute reads, calls and operators are requests to the owner; a
  reference sent back home arrives as the original. The judge's own objects that a test hands
  to the learner's code (a toy layer, a callback) thus stay and run in the judge.

The judge reads the worker's messages with an unpickler that refuses every global: a message is
made of builtin containers, strings, numbers and bytes only, and is decoded by fixed code (arrays
of numeric dtypes only, exception types by name among the builtins). Nothing the worker sends
can run code in the judge. An exception the judge's code raises in a callback (a failed check)
is re-raised when the call returns, whatever the learner's code did with it. The judge's numpy
error handling (``np.errstate``) and warnings-as-errors hold for the calls it makes.

What it costs: a request is a round trip of two processes, about 70 us when empty (each side
polls briefly before it blocks, see :meth:`Channel._wait_briefly`). Two helpers turn many
requests into one: :func:`outputs_in_one_request` (every perturbed forward of a gradient check)
and :func:`repeated` (a long chain of operations). Data too large to compare at every message
should be read-only: a read-only array is never compared (the MNIST arrays are read-only).
"""

from __future__ import annotations

import builtins
import contextlib
import copy
import faulthandler
import io
import itertools
import math
import operator
import os
import pickle
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from types import FunctionType
from typing import Any

import numpy as np

HEADER = struct.Struct("!Q")
MAX_MESSAGE = 4 << 30  # bytes: more than any array a test passes; a bigger header is a lie
MAX_TEXT = 20_000  # characters of an exception's message or traceback kept
JUDGE, WORKER = 1, -1  # the signs of the ids each side allocates
WORKER_SCRIPT = "_kata_worker.py"
BOOTSTRAP = """\
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # python -I leaves it out
import kata.sandbox
kata.sandbox.serve()
"""
SPIN = 0.0005  # seconds a side polls for an answer before it blocks (Channel._wait_briefly)
STACK_WAIT = 2.0  # seconds the judge waits for the worker's stack dump before ending it
NOBODY = "nobody"
PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER = (
    1,
    36,
)  # prctl(2)  # the user the worker runs as when the judge runs as root

# Operators a Remote forwards, as names in the operator module.
BINARY: tuple[str, ...] = ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul")
BINARY += ("and_", "or_", "xor", "lshift", "rshift")
COMPARISONS = ("lt", "le", "eq", "ne", "gt", "ge")
UNARY = ("neg", "pos", "abs", "invert", "index")
OPERATIONS: dict[str, Callable[..., Any]] = {
    **{name: getattr(operator, name) for name in UNARY},
    "getitem": operator.getitem,
    "setitem": operator.setitem,
    "delitem": operator.delitem,
    "contains": operator.contains,
    "len": len,
    "iter": iter,
    "next": next,
    "repr": repr,
    "str": str,
    "bool": bool,
    "float": float,
    "int": int,
    "complex": complex,
    "hash": hash,
    "format": format,
    "dir": dir,
    "isinstance": isinstance,
    "issubclass": issubclass,
    "copy": copy.copy,
    "deepcopy": copy.deepcopy,
    "array": np.asarray,
}
NUMERIC_KINDS = "biufc"
BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")
BUILTIN_TYPES = {t.__name__: t for t in (bool, int, float, complex, str, bytes, object)}
TRUSTED_PACKAGES = ("toolkit",)  # classes both sides import: proxies inherit from them
METHOD_TYPES = (FunctionType, staticmethod, classmethod)


class SandboxError(BaseException):
    """The worker ended, or broke the protocol, during a request. A ``BaseException``, as the
    plugin's time limit is, so that hypothesis does not start a worker again to shrink it."""


class WorkerEndedError(SandboxError):
    """The worker process ended during a request: ``how`` it ended and ``where`` it was."""

    def __init__(self, what: str, how: str, where: str) -> None:
        place = f", in {where}" if where else ""
        super().__init__(f"{what} ended the process running the code under test: {how}{place}")
        self.what, self.how, self.where = what, how, where


class RemoteError(Exception):
    """An exception of a type the judge does not rebuild (one defined in the learner's code)."""


class ChannelClosedError(Exception):
    """The other end of the pipe is gone."""


# ---------------------------------------------------------------------------------- channel


class _NoGlobals(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"a sandbox message may not name {module}.{name}")


class Channel:
    """Length-prefixed pickles of plain values on a pair of pipe descriptors."""

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self.reader = io.FileIO(read_fd, "rb", closefd=True)
        self.writer = io.FileIO(write_fd, "wb", closefd=True)

    def send(self, message: object) -> None:
        data = pickle.dumps(message, protocol=5)
        view = memoryview(HEADER.pack(len(data)) + data)
        while view:
            written = self.writer.write(view)
            if not written:
                raise ChannelClosedError("the pipe is closed")
            view = view[written:]

    def receive(self) -> Any:
        self._wait_briefly()
        (size,) = HEADER.unpack(self._read(HEADER.size))
        if size > MAX_MESSAGE:
            raise pickle.UnpicklingError(f"a message of {size} bytes announced")
        return _NoGlobals(io.BytesIO(self._read(size))).load()

    def _wait_briefly(self) -> None:
        """Poll for the next message for up to ``SPIN`` seconds before blocking on it.

        The two sides answer each other within tens of microseconds; a process blocked in a
        read lets its core sleep, and waking it can take longer than the answer did. On a test
        that sends thousands of requests, that wait is most of the time."""
        deadline = time.perf_counter() + SPIN
        descriptor = [self.reader.fileno()]
        while time.perf_counter() < deadline:
            if select.select(descriptor, [], [], 0)[0]:
                return

    def _read(self, size: int) -> bytes:
        buffer = bytearray(size)
        view = memoryview(buffer)
        done = 0
        while done < size:
            count = self.reader.readinto(view[done:])
            if not count:
                raise ChannelClosedError("the other end closed the pipe")
            done += count
        return bytes(buffer)

    def close(self) -> None:
        self.reader.close()
        self.writer.close()


# ---------------------------------------------------------------------------------- mirrors


class _Mirror:
    """One mirrored object on this side: the object, what it held at the last message, and a
    count. The owner (the side that sent it first) counts the times it sent it and the other
    side has not released; a copy counts the times it was received. Both hold the object: a
    copy is released, with its count, at the first message after nothing else refers to it,
    so a change made just before the last reference went is still sent."""

    __slots__ = ("count", "kind", "mid", "obj", "owner", "snapshot")

    def __init__(self, mid: int, kind: str, obj: Any, *, owner: bool) -> None:
        self.mid, self.kind, self.obj, self.owner, self.count = mid, kind, obj, owner, 1
        self.snapshot: Any = _snapshot(kind, obj)


UNREFERENCED = 2  # sys.getrefcount of a mirror's object held by the mirror alone


def _mirror_kind(value: object) -> str | None:
    if type(value) is np.ndarray and value.dtype.kind in NUMERIC_KINDS and value.ndim <= 32:
        return "a"
    if type(value) is dict:
        return "d"
    if type(value) is list:
        return "l"
    if type(value) is np.random.Generator:
        return "g"
    return None


def _snapshot(kind: str, obj: Any) -> Any:
    if kind == "a":  # its shape and bytes; nothing for a read-only array, which cannot change
        return (obj.shape, obj.tobytes()) if obj.flags.writeable else None
    if kind == "d":
        return list(obj.items())
    if kind == "l":
        return list(obj)
    return obj.bit_generator.state


def _changed(kind: str, obj: Any, snapshot: Any) -> bool:
    if kind == "a":
        if snapshot is None:
            return False  # read-only on this side: it cannot change here
        return bool(obj.shape != snapshot[0] or obj.tobytes() != snapshot[1])
    if kind == "d":
        items = list(obj.items())
        return len(items) != len(snapshot) or any(
            (k1 is not k2 and k1 != k2) or v1 is not v2
            for (k1, v1), (k2, v2) in zip(items, snapshot, strict=True)
        )
    if kind == "l":
        return len(obj) != len(snapshot) or any(
            a is not b for a, b in zip(obj, snapshot, strict=True)
        )
    return bool(obj.bit_generator.state != snapshot)


def _array_layout(array: np.ndarray) -> str:
    if array.flags.c_contiguous:
        return "C"
    return "F" if array.flags.f_contiguous else "S"


def _checked_dtype(text: object) -> np.dtype[Any]:
    dtype = np.dtype(str(text))
    if dtype.kind not in NUMERIC_KINDS or dtype.hasobject or dtype.fields is not None:
        raise pickle.UnpicklingError(f"an array of dtype {dtype} cannot be sent")
    return dtype


def _array_from(dtype_text: object, shape: object, data: object) -> np.ndarray:
    dtype = _checked_dtype(dtype_text)
    if not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape):
        raise pickle.UnpicklingError(f"an array shape must be non-negative integers: {shape!r}")
    if not isinstance(data, bytes) or len(data) != math.prod(shape) * dtype.itemsize:
        raise pickle.UnpicklingError("an array's bytes do not match its shape")
    return np.frombuffer(data, dtype=dtype).reshape(shape)


def _laid_out(values: np.ndarray, layout: str) -> np.ndarray:
    """A writable copy of ``values`` with the memory layout ``layout`` (C, F, or strided)."""
    if layout == "F":
        return np.asfortranarray(values).copy(order="F")
    if layout == "S" and values.ndim > 0:
        holder = np.empty((*values.shape[:-1], 2 * values.shape[-1]), dtype=values.dtype)
        strided = holder[..., ::2]
        strided[...] = values
        return strided
    return values.copy()


# ------------------------------------------------------------------------------------ remote


class Remote:
    """An object of the other side: attribute reads, calls and operators are requests to it."""

    _kata_methods: frozenset[str] = frozenset()  # the remote class's methods, by name
    _kata_name = "object"
    __array_ufunc__ = None  # array + proxy: numpy leaves it to proxy.__radd__, done there

    def __init__(self, peer: Peer, eid: int) -> None:
        object.__setattr__(self, "_kata_peer", peer)
        object.__setattr__(self, "_kata_eid", eid)

    def __getattribute__(self, name: str) -> Any:
        if name.startswith("_kata_") or name in LOCAL_NAMES:
            return object.__getattribute__(self, name)
        if name in object.__getattribute__(self, "_kata_methods"):
            return RemoteMethod(self, name)  # looked up there when called: one request, not two
        return object.__getattribute__(self, "_kata_peer").request("getattr", self, name)

    def __setattr__(self, name: str, value: Any) -> None:
        self._kata_peer.request("setattr", self, name, value)

    def __delattr__(self, name: str) -> None:
        self._kata_peer.request("delattr", self, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._kata_peer.request("call", self, args, tuple(kwargs.items()))

    def _kata_op(self, name: str, *args: Any) -> Any:
        return self._kata_peer.request("op", name, args)

    def __repr__(self) -> str:
        try:
            return str(self._kata_op("repr", self))
        except (SandboxError, ChannelClosedError):
            return f"<{self._kata_name} of an ended worker>"

    def __str__(self) -> str:
        return str(self._kata_op("str", self))

    def __format__(self, spec: str) -> str:
        return str(self._kata_op("format", self, spec))

    def __bool__(self) -> bool:
        return bool(self._kata_op("bool", self))

    def __len__(self) -> int:
        return int(self._kata_op("len", self))

    def __iter__(self) -> Any:
        return self._kata_op("iter", self)

    def __next__(self) -> Any:
        return self._kata_op("next", self)

    def __float__(self) -> float:
        return float(self._kata_op("float", self))

    def __int__(self) -> int:
        return int(self._kata_op("int", self))

    def __complex__(self) -> complex:
        return complex(self._kata_op("complex", self))

    def __hash__(self) -> int:
        return int(self._kata_op("hash", self))

    def __getitem__(self, key: Any) -> Any:
        return self._kata_op("getitem", self, key)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._kata_op("setitem", self, key, value)

    def __delitem__(self, key: Any) -> None:
        self._kata_op("delitem", self, key)

    def __contains__(self, item: Any) -> bool:
        return bool(self._kata_op("contains", self, item))

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        array = np.asarray(self._kata_op("array", self))
        return array if dtype is None else array.astype(dtype)

    def __instancecheck__(self, instance: Any) -> bool:
        return bool(self._kata_op("isinstance", instance, self))

    def __subclasscheck__(self, subclass: Any) -> bool:
        return bool(self._kata_op("issubclass", subclass, self))

    def __copy__(self) -> Any:
        return self._kata_op("copy", self)

    def __deepcopy__(self, memo: Any) -> Any:
        return self._kata_op("deepcopy", self)

    def __dir__(self) -> Iterable[str]:
        return list(self._kata_op("dir", self))

    def __enter__(self) -> Any:
        return self._kata_peer.request("getattr", self, "__enter__")()

    def __exit__(self, *exc_info: Any) -> Any:
        return self._kata_peer.request("getattr", self, "__exit__")(*exc_info)


def _special(name: str) -> Callable[..., Any]:
    """A special method that calls the remote object's own (NotImplemented when its class has
    none), so Python's reflection (``b.__radd__`` after ``a.__add__``) happens on the side that
    evaluates the expression, as it would with the objects themselves."""
    return lambda self, *args: self._kata_peer.request("special", self, name, args)


for _name in BINARY:
    _dunder = _name.rstrip("_")
    for _method in (f"__{_dunder}__", f"__r{_dunder}__", f"__i{_dunder}__"):
        setattr(Remote, _method, _special(_method))
for _name in COMPARISONS:
    setattr(Remote, f"__{_name}__", _special(f"__{_name}__"))
for _name in UNARY:
    setattr(Remote, f"__{_name}__", lambda self, _op=_name: self._kata_op(_op, self))
# What a proxy answers itself: its own machinery, and the special methods defined above (which
# forward); every other attribute is read on the other side.
LOCAL_NAMES = frozenset(
    {"__class__", "__dict__", "__weakref__"}
    | {name for name in vars(Remote) if name.startswith("__") and name != "__getattribute__"}
)


class RemoteMethod:
    """``proxy.name`` for a method of the remote object's class: calling it is one request
    (the method is looked up on the other side then, as a bound method would be)."""

    def __init__(self, owner: Remote, name: str) -> None:
        self.__self__, self.__name__ = owner, name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        owner = self.__self__
        keywords = tuple(kwargs.items())  # pairs, not a dict: a dict would be mirrored
        return owner._kata_peer.request("method", owner, self.__name__, args, keywords)

    def __repr__(self) -> str:
        return f"<method {self.__name__} of {self.__self__!r}>"


def _describe(cls: type, *, instance: bool) -> tuple[str, list[str], list[str]]:
    """What the receiver needs to build a proxy class: the name, the trusted base classes
    (``module:qualname``) and the names of the methods, for an instance of ``cls``."""
    if not instance:
        return ("type", [], [])  # type(proxy of a class).__name__ is "type", as it is there
    bases = [f"{c.__module__}:{c.__qualname__}" for c in cls.__mro__]
    trusted = [b for b in bases if b.split(":")[0].split(".")[0] in TRUSTED_PACKAGES]
    methods = {
        name
        for c in cls.__mro__[:-1]
        for name, member in vars(c).items()
        if not name.startswith("__") and isinstance(member, METHOD_TYPES)
    }
    return (cls.__qualname__, trusted, sorted(methods))


def _proxy_class(description: Any) -> type:
    """The class of a Remote: ``Remote`` and the trusted classes (``toolkit``'s) the remote
    object's class derives from, so ``isinstance(proxy, Layer)`` holds as it does there."""
    name, bases, methods = description
    found: list[type] = []
    for qualified in bases:
        module_name, _, class_name = str(qualified).rpartition(":")
        if module_name.split(".")[0] not in TRUSTED_PACKAGES:
            continue
        try:
            module = __import__(module_name, fromlist=["_"])
            cls = getattr(module, class_name)
        except (ImportError, AttributeError):
            continue
        if isinstance(cls, type) and not any(issubclass(f, cls) for f in found):
            found.append(cls)
    short = str(name).rpartition(".")[2] or "Remote"
    namespace = {
        "__module__": "remote",
        "_kata_methods": frozenset(str(m) for m in methods),
        "_kata_name": short,
    }
    return type(short, (Remote, *found), namespace)


# -------------------------------------------------------------------------------------- peer


class Peer:
    """One end of the conversation: encodes and decodes values, keeps the mirrors and the
    references of both sides, and runs requests (serving the other side's while it waits)."""

    def __init__(
        self,
        channel: Channel,
        sign: int,
        *,
        paths: tuple[str, str] | None = None,
        on_broken: Callable[[BaseException], BaseException] | None = None,
    ) -> None:
        self.channel = channel
        self.sign = sign
        self.paths = paths  # (this side's folder of the graded package, the real one)
        self.on_broken = on_broken
        self.counter = itertools.count(1)
        self.mirrors: dict[int, _Mirror] = {}
        self.mirror_of: dict[int, int] = {}  # id(object) -> mid
        self.exported: dict[int, list[Any]] = {}  # eid -> [object, times sent]
        self.export_of: dict[int, int] = {}  # id(object) -> eid
        self.proxies: dict[int, tuple[weakref.ref[Remote], list[int]]] = {}  # eid -> proxy
        self.classes: dict[int, type] = {}  # the proxy classes, by the other side's number
        self.described: dict[tuple[int, bool], tuple[type, int]] = {}  # classes sent: numbers
        self.failure: BaseException | None = None  # a check that failed inside a callback
        self.broken = False

    # -------------------------------------------------------------- requests and serving

    def request(self, kind: str, *body: Any) -> Any:
        """Send a request and wait for its answer, serving the other side's requests
        meanwhile; raise what the request raised there."""
        if self.broken:
            raise SandboxError("the process running the code under test has ended")
        try:
            self._send(("q", kind, body, _float_settings()))
            while True:
                message = self._receive()
                if message[0] == "q":
                    self._serve(message[1], message[2], message[3])
                    continue
                break
        except BaseException as error:
            if self.on_broken is None:
                raise
            self.broken = True
            raise self.on_broken(error) from None
        failure, self.failure = self.failure, None
        if failure is not None:
            raise failure
        if message[0] == "e":
            raise message[1]
        return message[1]

    def serve_forever(self) -> None:
        """The worker's loop: answer requests until the judge closes the pipe."""
        while True:
            try:
                message = self._receive()
            except ChannelClosedError:
                return
            self._serve(message[1], message[2], message[3])

    def _serve(self, kind: str, body: Any, settings: Any) -> None:
        try:
            if self.sign == WORKER:
                with _applied(settings):
                    result = self._run(kind, body)
            else:
                result = self._run(kind, body)  # the judge's callbacks keep their own settings
            self._send(("r", result))
        except BaseException as error:  # it crosses to the side that asked
            if self.sign == JUDGE:
                if not isinstance(error, Exception) and not _is_check_failure(error):
                    raise  # a time limit, Ctrl-C: the judge's own business
                if self.failure is None:
                    self.failure = error
            self._send(("e", error))

    def _run(self, kind: str, body: Any) -> Any:
        if kind == "call":
            target, args, keywords = body
            return target(*args, **dict(keywords))
        if kind == "getattr":
            return getattr(body[0], body[1])
        if kind == "setattr":
            return setattr(body[0], body[1], body[2])
        if kind == "delattr":
            return delattr(body[0], body[1])
        if kind == "method":
            target, name, args, keywords = body
            return getattr(target, name)(*args, **dict(keywords))
        if kind == "evaluate":
            return _evaluated(*body)
        if kind == "repeat":
            name, value, operand, times = body
            for _ in range(times):
                value = getattr(operator, name)(value, operand)
            return value
        if kind == "special":
            target, name, args = body
            method = getattr(type(target), name, None)
            return NotImplemented if method is None else method(target, *args)
        if kind == "op":
            return OPERATIONS[body[0]](*body[1])
        if self.sign == WORKER and kind == "import":
            return __import__(body[0], fromlist=["_"])
        if self.sign == WORKER and kind == "lines":
            return _count_lines(body[0])
        if self.sign == WORKER and kind == "confinement":
            return CONFINEMENT[0]
        if self.sign == WORKER and kind == "answers":
            from kata.copies import borrowed_answers

            return borrowed_answers(body[0], Path(body[1]))
        raise SandboxError(f"unknown request {kind!r}")

    # ------------------------------------------------------------------------ messages

    def _send(self, message: tuple[Any, ...]) -> None:
        updates = self._updates()  # first: a copy about to be released may have changed
        releases = self._releases()
        wire: tuple[Any, ...]
        if message[0] == "q":  # the kind and the caller's settings are plain: only the body is
            wire = ("q", message[1], self._encode(message[2]), message[3])  # encoded
        else:
            wire = (message[0], self._encode(message[1]))
        self.channel.send((updates, releases, wire))

    def _receive(self) -> tuple[Any, ...]:
        updates, releases, body = self.channel.receive()
        for mid, payload in updates:  # first: the last change of a copy released with it
            self._update(mid, payload)
        for kind, ident, count in releases:
            self._release(kind, ident, count)
        if body[0] == "q":
            return ("q", str(body[1]), self._decode(body[2]), body[3])
        return (body[0], self._decode(body[1]))

    def _releases(self) -> list[tuple[str, int, int]]:
        released = []
        copies = [m for m in self.mirrors.values() if not m.owner]
        containers = [m for m in copies if m.kind in "dl"]  # first: they may hold the others
        for mirror in containers + [m for m in copies if m.kind not in "dl"]:
            if sys.getrefcount(mirror.obj) <= UNREFERENCED:
                released.append(("m", mirror.mid, mirror.count))
                self.mirror_of.pop(id(mirror.obj), None)
                del self.mirrors[mirror.mid]
                mirror.obj = mirror.snapshot = None
        for eid, (proxy, count) in list(self.proxies.items()):
            if proxy() is None:
                released.append(("r", eid, count[0]))
                del self.proxies[eid]
        return released

    def _release(self, kind: str, ident: int, count: int) -> None:
        if kind == "m" and ident in self.mirrors:
            mirror = self.mirrors[ident]
            mirror.count -= count
            if mirror.count <= 0 and mirror.owner:
                self.mirror_of.pop(id(mirror.obj), None)
                del self.mirrors[ident]
        elif kind == "r" and ident in self.exported:
            entry = self.exported[ident]
            entry[1] -= count
            if entry[1] <= 0:
                self.export_of.pop(id(entry[0]), None)
                del self.exported[ident]

    def _updates(self) -> list[tuple[int, Any]]:
        updates = []
        for mid, mirror in list(self.mirrors.items()):  # a dict's new values are new mirrors
            obj = mirror.obj
            if not _changed(mirror.kind, obj, mirror.snapshot):
                continue
            mirror.snapshot = _snapshot(mirror.kind, obj)
            if mirror.kind == "a":
                updates.append((mid, (obj.dtype.str, list(obj.shape), mirror.snapshot[1])))
            else:
                updates.append((mid, self._content(mirror.kind, obj)))
        return updates

    def _update(self, mid: int, payload: Any) -> None:
        mirror = self.mirrors.get(mid)
        if mirror is None:
            return  # a copy this side released: nothing here can see the change
        obj = mirror.obj
        self._fill(mirror.kind, obj, payload)
        mirror.snapshot = _snapshot(mirror.kind, obj)

    def _content(self, kind: str, obj: Any) -> Any:
        if kind == "a":
            return (obj.dtype.str, list(obj.shape), np.ascontiguousarray(obj).tobytes())
        if kind == "d":
            return [(self._encode(k), self._encode(v)) for k, v in obj.items()]
        if kind == "l":
            return [self._encode(v) for v in obj]
        return self._encode_plain(obj.bit_generator.state)

    def _fill(self, kind: str, obj: Any, payload: Any) -> None:
        if kind == "a":
            values = _array_from(*payload)
            if values.shape != obj.shape:
                try:
                    obj.shape = values.shape  # the other side reshaped it in place
                except (AttributeError, ValueError):
                    return
            if obj.flags.writeable:
                obj[...] = values
        elif kind == "d":
            items = [(self._decode(k), self._decode(v)) for k, v in payload]
            obj.clear()
            obj.update(items)
        elif kind == "l":
            obj[:] = [self._decode(v) for v in payload]
        else:
            obj.bit_generator.state = self._decode(payload)

    # ------------------------------------------------------------------------ encoding

    def _encode(self, value: Any) -> Any:
        kind = type(value)
        if value is None or kind in (bool, int, float, str, bytes):
            return value
        if kind is tuple:
            return ("t", [self._encode(v) for v in value])
        if kind in (set, frozenset):
            return ("s" if kind is set else "f", [self._encode(v) for v in value])
        if kind is complex:
            return ("c", value.real, value.imag)
        if kind is slice:
            return ("sl", self._encode(value.start), self._encode(value.stop), value.step)
        if value is Ellipsis:
            return ("e",)
        if value is NotImplemented:
            return ("ni",)
        if isinstance(value, np.generic) and value.dtype.kind in NUMERIC_KINDS:
            return ("n", value.dtype.str, value.tobytes())
        if kind is np.dtype or isinstance(value, np.dtype):
            return ("dt", value.str) if value.kind in NUMERIC_KINDS else self._reference(value)
        if isinstance(value, type) and _type_name(value) is not None:
            return ("ty", _type_name(value))
        if isinstance(value, BaseException):
            return self._encode_error(value)
        if isinstance(value, Remote) and value._kata_peer is self:
            return ("h", value._kata_eid)
        mirror_kind = _mirror_kind(value)
        if mirror_kind is not None:
            return self._encode_mirror(mirror_kind, value)
        ufunc_name = str(getattr(value, "__name__", "")) if isinstance(value, np.ufunc) else ""
        if ufunc_name and getattr(np, ufunc_name, None) is value:
            return ("np", ufunc_name)
        return self._reference(value)

    def _encode_mirror(self, kind: str, value: Any) -> Any:
        mid = self.mirror_of.get(id(value))
        mirror = self.mirrors.get(mid) if mid is not None else None
        if mid is not None and mirror is not None and mirror.obj is value:
            if mirror.owner:
                mirror.count += 1
            return (kind, mid, None)
        mid = self.sign * next(self.counter)
        self.mirrors[mid] = _Mirror(mid, kind, value, owner=True)
        self.mirror_of[id(value)] = mid
        if kind == "a":
            dtype, shape, data = self._content("a", value)
            return ("a", mid, (dtype, shape, _array_layout(value), value.flags.writeable, data))
        return (kind, mid, self._content(kind, value))

    def _reference(self, value: Any) -> Any:
        eid = self.export_of.get(id(value))
        entry = self.exported.get(eid) if eid is not None else None
        if eid is None or entry is None or entry[0] is not value:
            eid = self.sign * next(self.counter)
            entry = self.exported[eid] = [value, 0]
            self.export_of[id(value)] = eid
        entry[1] += 1
        instance = not isinstance(value, type)
        cls = type(value) if instance else value
        key = (id(cls), instance)
        known = self.described.get(key)
        if known is not None and known[0] is cls:
            return ("r", eid, known[1], None)
        number = self.sign * next(self.counter)
        self.described[key] = (cls, number)
        return ("r", eid, number, _describe(cls, instance=instance))

    def _encode_plain(self, value: Any) -> Any:
        """``value`` copied whole (a Generator's state): arrays by value, no mirrors."""
        if isinstance(value, dict):
            items = value.items()
            return ("pd", [(self._encode_plain(k), self._encode_plain(v)) for k, v in items])
        if isinstance(value, np.ndarray):
            return ("v", value.dtype.str, list(value.shape), np.ascontiguousarray(value).tobytes())
        return self._encode(value)

    def _encode_error(self, error: BaseException) -> Any:
        frames = [(self._shown_path(f), line, name) for f, line, name in frames_of(error)]
        args = [a for a in error.args if a is None or type(a) in (str, int, float, bool)]
        if isinstance(error, SyntaxError):
            args = [error.msg, (self._shown_path(error.filename or ""), error.lineno, error.offset,
                                error.text)]  # fmt: skip
            args = [self._encode(a) for a in args]
        cause = error.__cause__ or error.__context__
        return (
            "x",
            type(error).__module__,
            type(error).__qualname__,
            str(error)[:MAX_TEXT],
            args if len(args) == len(error.args) else None,
            frames[-200:],
            self._encode_error(cause) if cause is not None and cause is not error else None,
        )

    def _shown_path(self, filename: str) -> str:
        if self.paths is not None and filename.startswith(self.paths[0]):
            return self.paths[1] + filename[len(self.paths[0]) :]
        return filename

    # ------------------------------------------------------------------------ decoding

    def _decode(self, value: Any) -> Any:
        if type(value) is not tuple:
            if value is None or type(value) in (bool, int, float, str, bytes):
                return value
            raise pickle.UnpicklingError(f"a value of type {type(value).__name__} in a message")
        tag = value[0]
        if tag in ("t", "s", "f"):
            items = [self._decode(v) for v in value[1]]
            return {"t": tuple, "s": set, "f": frozenset}[tag](items)
        if tag == "c":
            return complex(value[1], value[2])
        if tag == "sl":
            return slice(self._decode(value[1]), self._decode(value[2]), value[3])
        if tag == "e":
            return Ellipsis
        if tag == "ni":
            return NotImplemented
        if tag == "n":
            return _array_from(value[1], [], value[2])[()]
        if tag == "dt":
            return _checked_dtype(value[1])
        if tag == "ty":
            return _named_type(value[1])
        if tag == "np":
            found = getattr(np, str(value[1]), None)
            if not isinstance(found, np.ufunc):
                raise pickle.UnpicklingError(f"numpy has no ufunc {value[1]!r}")
            return found
        if tag in ("a", "d", "l", "g"):
            return self._decode_mirror(tag, value[1], value[2])
        if tag == "r":
            return self._proxy(value[1], value[2], value[3])
        if tag == "h":
            return self.exported[value[1]][0]
        if tag == "x":
            return self._decode_error(value)
        if tag == "pd":
            return {self._decode(k): self._decode(v) for k, v in value[1]}
        if tag == "v":
            return _array_from(value[1], value[2], value[3]).copy()
        raise pickle.UnpicklingError(f"unknown tag {tag!r} in a message")

    def _decode_mirror(self, kind: str, mid: int, payload: Any) -> Any:
        mirror = self.mirrors.get(mid)
        if mirror is not None:
            if not mirror.owner:
                mirror.count += 1
            return mirror.obj
        if payload is None:
            raise pickle.UnpicklingError(f"mirror {mid} is unknown here")
        obj: Any
        if kind == "a":
            dtype, shape, layout, writeable, data = payload
            obj = _laid_out(_array_from(dtype, shape, data), str(layout))
            obj.flags.writeable = bool(writeable)
        elif kind in ("d", "l"):
            obj = {} if kind == "d" else []
            self._fill(kind, obj, payload)
        else:
            obj = self._new_generator(payload)
        self.mirrors[mid] = _Mirror(mid, kind, obj, owner=False)
        self.mirror_of[id(obj)] = mid
        return obj

    def _new_generator(self, payload: Any) -> np.random.Generator:
        state = self._decode(payload)
        name = state.get("bit_generator") if isinstance(state, dict) else None
        if name not in BIT_GENERATORS:
            raise pickle.UnpicklingError(f"unknown bit generator {name!r}")
        generator = np.random.Generator(getattr(np.random, name)())
        generator.bit_generator.state = state
        return generator

    def _proxy(self, eid: int, number: int, description: Any) -> Remote:
        known = self.proxies.get(eid)
        proxy = known[0]() if known is not None else None
        if proxy is None:
            if description is not None:
                self.classes[number] = _proxy_class(description)
            proxy = self.classes[number](self, eid)
            self.proxies[eid] = (weakref.ref(proxy), [1])
        else:
            self.proxies[eid][1][0] += 1
        return proxy

    def _decode_error(self, value: tuple[Any, ...]) -> BaseException:
        _, module, name, message, args, frames, cause = value
        cls = _exception_class(str(module), str(name))
        decoded_args = [self._decode(a) for a in args] if args is not None else [message]
        try:
            error = cls(*decoded_args)
        except Exception:
            error = cls(message)
        error.kata_remote_frames = [tuple(f) for f in frames]  # type: ignore[attr-defined]
        if cause is not None:
            error.__cause__ = self._decode_error(cause)
        return error


def _float_settings() -> tuple[tuple[tuple[str, str], ...], bool]:
    """The caller's numpy error handling (``np.errstate``) and whether its warnings are errors
    (``warnings.simplefilter("error")``): a check that makes an overflow an error makes it one
    in the code it calls, wherever that runs."""
    as_errors = bool(warnings.filters) and warnings.filters[0][0] == "error"
    return tuple(sorted((name, str(value)) for name, value in np.geterr().items())), as_errors


@contextlib.contextmanager
def _applied(settings: Any) -> Iterator[None]:
    if settings == _DEFAULT_SETTINGS:  # what the worker has already: nothing to change
        yield
        return
    handling, as_errors = settings
    allowed = ("ignore", "warn", "raise", "call", "print", "log")
    chosen = {str(k): str(v) for k, v in handling if str(k) in np.geterr() and str(v) in allowed}
    with np.errstate(**chosen), warnings.catch_warnings():  # type: ignore[arg-type]
        if as_errors:
            warnings.simplefilter("error")
        yield


_DEFAULT_SETTINGS = _float_settings()  # numpy's and Python's defaults, as the worker starts


def _type_name(value: type) -> str | None:
    if issubclass(value, np.generic) and getattr(np, value.__name__, None) is value:
        return f"np.{value.__name__}"
    if BUILTIN_TYPES.get(value.__name__) is value:
        return value.__name__
    return None


def _named_type(name: object) -> type:
    text = str(name)
    if text.startswith("np."):
        found = getattr(np, text[3:], None)
        if isinstance(found, type) and issubclass(found, np.generic):
            return found
    elif text in BUILTIN_TYPES:
        return BUILTIN_TYPES[text]
    raise pickle.UnpicklingError(f"no type {text!r} may be sent")


_REBUILT: dict[str, type[BaseException]] = {}
NOT_REBUILT = ("SystemExit", "KeyboardInterrupt", "GeneratorExit")


def _exception_class(module: str, name: str) -> type[BaseException]:
    """The exception type to raise for one of the other side: the builtin of that name, or a
    :class:`RemoteError` subclass named like it (the judge imports nothing the worker names)."""
    if module == "builtins" and name not in NOT_REBUILT:
        found = getattr(builtins, name, None)
        if isinstance(found, type) and issubclass(found, Exception):
            return found
    if module.startswith("numpy") and name == "AxisError":
        return np.exceptions.AxisError
    key = f"{module}.{name}"
    if key not in _REBUILT:
        _REBUILT[key] = type(name.rpartition(".")[2], (RemoteError,), {"__module__": module})
    return _REBUILT[key]


def _is_check_failure(error: BaseException) -> bool:
    """pytest's ``fail``/``skip`` outcomes (BaseExceptions) raised by the judge's code."""
    return type(error).__module__.startswith("_pytest")


def outputs_in_one_request(
    function: Any, args: tuple[Any, ...], array: np.ndarray
) -> Callable[[list[tuple[tuple[int, ...], float]]], Sequence[np.ndarray]] | None:
    """For ``function`` a method of a worker's object: a function that, given ``(index,
    value)`` settings, returns ``function(*args)`` with ``array[index] = value`` for each in
    turn, all in one request (``toolkit.gradcheck.numerical_vjp``'s ``outputs_at``); None for
    a function of this process. The outputs are the method's own, as they would be one call at
    a time: only the requests are fewer."""
    if not isinstance(function, RemoteMethod):
        return None
    owner = function.__self__

    def outputs_at(settings: list[tuple[tuple[int, ...], float]]) -> Sequence[np.ndarray]:
        body = (owner, function.__name__, args, array, tuple(settings))
        return tuple(owner._kata_peer.request("evaluate", *body))

    return outputs_at


def _evaluated(
    target: Any, name: str, args: tuple[Any, ...], array: np.ndarray, settings: Any
) -> tuple[np.ndarray, ...]:
    """The worker's side of :func:`outputs_in_one_request` (each element put back after its
    evaluation, as a central difference does)."""
    method = getattr(target, name)
    outputs = []
    for index, value in settings:
        place = tuple(index)
        original = array[place].copy()
        try:
            array[place] = value
            outputs.append(np.array(method(*args), dtype=np.float64))
        finally:
            array[place] = original
    return tuple(outputs)


def repeated(name: str, value: Any, operand: Any, times: int) -> Any:
    """``value = operator.<name>(value, operand)``, ``times`` times, where ``value`` lives: a
    chain of a hundred thousand operations on an object of the worker is one request, not a
    hundred thousand."""
    if name not in BINARY:
        raise ValueError(f"repeated: {name!r} is not one of the operators {BINARY}")
    if isinstance(value, Remote):
        return value._kata_peer.request("repeat", name, value, operand, times)
    for _ in range(times):
        value = getattr(operator, name)(value, operand)
    return value


class LineCounter:
    """Counts the lines of Python run, in this process, by code written under one folder.

    It counts the ``"line"`` events of ``sys.settrace`` in every frame whose file lies under
    ``folder``, comprehensions and generators included; numpy's own code is not counted. The
    tracer in place before (a coverage tool, a debugger) is put back by :meth:`stop`.
    """

    def __init__(self, folder: str | Path) -> None:
        self.prefix = str(Path(folder).resolve())
        self.count = 0
        self.previous: Any = None

    def _line(self, frame: Any, event: str, arg: object) -> Any:
        if event == "line":
            self.count += 1
        return self._line

    def _enter(self, frame: Any, event: str, arg: object) -> Any:
        return self._line if frame.f_code.co_filename.startswith(self.prefix) else None

    def start(self) -> None:
        self.previous = sys.gettrace()
        sys.settrace(self._enter)

    def stop(self) -> int:
        sys.settrace(self.previous)
        return self.count


def lines_run(module: Any, function: Callable[[], object]) -> int:
    """How many lines of Python written in ``module``'s folder run during ``function()``.

    Counted where that code runs: in the worker when ``module`` is one of its modules (the
    tracer is set there for the duration, and every request ``function`` makes is traced),
    in this process otherwise (``--in-process``). A vectorized layer runs the same lines
    whatever the batch size; a Python loop over samples runs its body once per sample.
    """
    if isinstance(module, Remote):
        peer = module._kata_peer
        peer.request("lines", module)  # the worker starts counting in the module's folder
        try:
            function()
        finally:
            count = int(peer.request("lines", None))  # and stops: the count
        return count
    counter = LineCounter(Path(module.__file__).parent)
    counter.start()
    try:
        function()
    finally:
        counted = counter.stop()
    return counted


def remote_frames(error: BaseException) -> list[tuple[str, int, str]]:
    """Where an exception raised on the other side was raised: ``(file, line, function)``
    from the outermost call in to the innermost, or an empty list for a local exception."""
    return list(getattr(error, "kata_remote_frames", []))


def frames_of(error: BaseException) -> list[tuple[str, int, str]]:
    """``(file, line, qualified function name)`` of each frame ``error`` went through, from the
    outermost in: on the other side for an exception raised there (:func:`remote_frames`)."""
    remote = remote_frames(error)
    if remote:
        return remote
    return [
        (frame.f_code.co_filename, line, getattr(frame.f_code, "co_qualname", frame.f_code.co_name))
        for frame, line in traceback.walk_tb(error.__traceback__)
    ]


# ------------------------------------------------------------------------------------ worker


class Worker:
    """A worker process for the package ``package`` in ``root`` (the judge's side)."""

    def __init__(self, package: str, root: Path, toolkit: Path, label: str) -> None:
        self.package, self.root, self.label = package, root.resolve(), label
        self.folder = Path(tempfile.mkdtemp(prefix="kata-worker-"))
        self.process: subprocess.Popen[bytes] | None = None
        self.modules: dict[str, Any] = {}  # the modules imported and judged, by name
        try:
            self._prepare(toolkit)
            self.peer = self._start()
        except BaseException:
            self.stop()
            raise

    def _prepare(self, toolkit: Path) -> None:
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".kata")
        shutil.copytree(toolkit, self.folder / "toolkit", ignore=ignore)
        shutil.copytree(self.root, self.folder / self.package, ignore=ignore)
        kata = self.folder / "kata"
        kata.mkdir()
        (kata / "__init__.py").write_text("")
        here = Path(__file__).resolve().parent
        for name in ("sandbox.py", "copies.py", "landlock.py"):
            shutil.copy(here / name, kata / name)
        (self.folder / WORKER_SCRIPT).write_text(BOOTSTRAP)
        self.stack = tempfile.TemporaryFile(prefix="kata-stack-")  # noqa: SIM115 (kept open)
        for path in [self.folder, *self.folder.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)

    def _start(self) -> Peer:
        to_worker_read, to_worker_write = os.pipe()
        from_worker_read, from_worker_write = os.pipe()
        stack_fd = self.stack.fileno()
        inherited = (to_worker_read, from_worker_write, stack_fd)
        environment = {
            key: value
            for key, value in os.environ.items()
            if key in ("PATH", "LANG", "LC_ALL", "TZ") or key.endswith("_NUM_THREADS")
        }
        environment["HOME"] = environment["TMPDIR"] = str(self.folder)  # its one writable place
        command = [sys.executable, "-I", "-B", str(self.folder / WORKER_SCRIPT)]
        command += [str(fd) for fd in inherited]
        command += [str(self.folder / self.package), str(self.root)]
        extra = _unprivileged()
        self.unprivileged = bool(extra)
        try:
            self.process = subprocess.Popen(
                command,
                cwd=self.folder,
                env=environment,
                pass_fds=inherited,
                stdin=subprocess.DEVNULL,
                **extra,
            )
        finally:
            os.close(to_worker_read)
            os.close(from_worker_write)
        channel = Channel(from_worker_read, to_worker_write)
        return Peer(channel, JUDGE, on_broken=self._broken)

    def module(self, name: str) -> Any:
        """The worker's module ``name`` (imported there)."""
        return self.peer.request("import", name)

    @property
    def confinement(self) -> str:
        """What :func:`kata.landlock.confine` did to the worker, in a phrase."""
        return str(self.peer.request("confinement"))

    def borrowed(self, module: Any, answers: Path) -> str | None:
        """:func:`kata.copies.borrowed_answers`, run on the worker's module."""
        found = self.peer.request("answers", module, str(answers))
        return None if found is None else str(found)

    def _broken(self, error: BaseException) -> BaseException:
        """What the judge raises when a request could not finish: ``error`` itself (a time
        limit, Ctrl-C) with where the worker was, or :class:`WorkerEndedError`."""
        dump = self._stack_dump(request=not isinstance(error, ChannelClosedError))
        self.stop()
        from kata.stacks import how_it_ended, where_in

        where = where_in(self._real_paths(dump), self.root)
        if isinstance(error, ChannelClosedError):
            code = self.process.returncode if self.process is not None else -9
            return WorkerEndedError(self.label, how_it_ended(dump, code or 0), where)
        if isinstance(error, Exception):
            return SandboxError(f"the judge could not talk to the worker: {error}")
        error.kata_where = where  # type: ignore[attr-defined]
        return error

    def _stack_dump(self, *, request: bool) -> str:
        process = self.process
        if process is None:
            return ""
        if request and process.poll() is None:
            self.stack.seek(0)
            self.stack.truncate()
            os.kill(process.pid, signal.SIGUSR2)
            _wait_for_output(self.stack, STACK_WAIT)
        else:
            with contextlib.suppress(Exception):
                process.wait(timeout=STACK_WAIT)
        self.stack.seek(0)
        return self.stack.read().decode("utf-8", errors="replace")

    def _real_paths(self, dump: str) -> str:
        return dump.replace(str(self.folder / self.package), str(self.root))

    def stop(self) -> None:
        """End the worker; remove its folder."""
        process = self.process
        if process is not None and process.poll() is None:
            with contextlib.suppress(Exception):
                process.kill()
            with contextlib.suppress(Exception):
                process.wait(timeout=10)
        if hasattr(self, "peer"):
            self.peer.broken = True
            with contextlib.suppress(Exception):
                self.peer.channel.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def _wait_for_output(stream: Any, seconds: float) -> None:
    """Until the dump in ``stream`` stops growing (or ``seconds`` pass)."""
    deadline = time.monotonic() + seconds
    size = -1
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now = os.fstat(stream.fileno()).st_size
        if now and now == size:
            return
        size = now


_DROP: list[dict[str, Any]] = []  # the Popen arguments that drop privileges, once probed


def _unprivileged() -> dict[str, Any]:
    """Popen's arguments to run the worker as ``nobody``: when the judge runs as root and
    ``nobody`` can run this Python with numpy (a Python under /root cannot be). Empty
    otherwise: the worker then runs as the judge's user, confined by Landlock where the kernel
    has it (:mod:`kata.landlock`), and :mod:`kata.guard` keeps the judge's files."""
    if not _DROP:
        drop: dict[str, Any] = {}
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            import pwd

            try:
                user = pwd.getpwnam(NOBODY)
                drop = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
                probe = [sys.executable, "-I", "-B", "-c", "import numpy"]
                subprocess.run(probe, check=True, capture_output=True, timeout=60, cwd="/", **drop)
            except (KeyError, OSError, subprocess.SubprocessError):
                drop = {}
        _DROP.append(drop)
    return _DROP[0]


# ------------------------------------------------------------------------- the worker's side

CONFINEMENT = ["not a worker"]  # in the worker: what kata.landlock.confine did to it
COUNTERS: list[LineCounter] = []  # in the worker: the line counter running, if any


def _count_lines(module: Any) -> int | None:
    """Start counting the lines run in ``module``'s folder (a module), or stop (None) and
    return the count: :func:`lines_run`, on the worker's side."""
    if module is not None:
        counter = LineCounter(Path(module.__file__).parent)
        COUNTERS[:] = [counter]
        counter.start()
        return None
    return COUNTERS.pop().stop() if COUNTERS else 0


def serve(argv: list[str] | None = None) -> None:
    """The worker's main: ``READ_FD WRITE_FD STACK_FD FOLDER REAL_FOLDER``."""
    read_fd, write_fd, stack_fd, folder, real = (argv or sys.argv[1:])[:5]
    stack = int(stack_fd)
    faulthandler.enable(file=stack, all_threads=True)
    faulthandler.register(signal.SIGUSR2, file=stack, all_threads=True)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the judge decides when the worker ends
    _end_with_the_judge()
    from kata.landlock import confine

    try:  # before any code under test is imported
        CONFINEMENT[0] = confine(Path(folder).parent)
    except OSError as error:  # Landlock is there but refused: kata.guard still keeps the files
        CONFINEMENT[0] = f"not confined: {error}"
    real_exit = os._exit
    os._exit = _exit_writing_stack(real_exit, stack)  # type: ignore[assignment]
    peer = Peer(Channel(int(read_fd), int(write_fd)), WORKER, paths=(folder, real))
    peer.serve_forever()
    real_exit(0)  # the judge is gone: end now, running no exit handler of the code under test


def _prctl(option: int, value: int) -> bool:
    try:
        import ctypes

        return int(ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False  # not Linux


def adopt_orphans() -> bool:
    """Make this process the one that inherits its descendants' orphans (Linux's child
    subreaper), so a process the code under test started and left (a daemon that outlives its
    worker, to write files later) becomes a child of the judge, which :func:`end_orphans`
    ends. False where the system has no such thing."""
    return _prctl(PR_SET_CHILD_SUBREAPER, 1)


def end_orphans(keep: Iterable[int] = ()) -> int:
    """Kill this process's children but those in ``keep`` (the workers alive), and theirs as
    they are orphaned in turn; return how many were ended."""
    ended = 0
    for _ in range(20):  # each round ends one generation; the next becomes our children
        children = [pid for pid in _children_of(os.getpid()) if pid not in set(keep)]
        if not children:
            break
        for pid in children:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        for pid in children:
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, 0)
            ended += 1
    return ended


def _children_of(parent: int) -> list[int]:
    found = []
    with contextlib.suppress(OSError):
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat", encoding="utf-8") as file:
                        fields = file.read().rpartition(")")[2].split()
                except OSError:
                    continue  # it ended meanwhile
                if len(fields) > 1 and int(fields[1]) == parent:
                    found.append(int(entry))
    return found


def _end_with_the_judge() -> None:
    """Be killed when the judge's process ends, however it ends (Linux's parent-death signal;
    the worker is also in the judge's process group, which the grader ends)."""
    judge = os.getppid()
    _prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL))
    if os.getppid() != judge:  # the judge ended before the signal was set
        os._exit(1)


def _exit_writing_stack(real_exit: Callable[[int], Any], fd: int) -> Callable[[int], Any]:
    """``os._exit`` that first writes its caller's stack, as faulthandler would, for the judge
    to name the function that ended the worker."""

    def _exit(status: int) -> None:
        lines = [f"os._exit({status})"]
        for frame, line in traceback.walk_stack(sys._getframe(1)):
            code = frame.f_code
            lines.append(f'  File "{code.co_filename}", line {line} in {code.co_name}')
        os.lseek(fd, 0, os.SEEK_SET)
        os.ftruncate(fd, 0)
        os.write(fd, ("\n".join(lines) + "\n").encode())
        real_exit(status)

    return _exit
