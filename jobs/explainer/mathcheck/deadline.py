"""One time limit for a block of Python code, in any thread: :func:`time_limit`.

::

    with time_limit(2.0):
        value = sympy.integrate(expr, x)  # OutOfTime here once 2 s have passed

A timer thread raises :class:`OutOfTime` in the thread that runs the block, through
``PyThreadState_SetAsyncExc``. Unlike ``signal.setitimer`` this works in any thread (the offline
model computes in a worker's activity thread, where signals cannot be used), and the block runs in
the calling thread itself, with its stack and its thread-locals.

Guarantees:

* ``OutOfTime`` is raised inside the ``with`` statement (as it starts, in the block, or as it
  ends), never after it: the timer fires only while the block is running (a lock orders firing against
  leaving), and leaving clears an exception fired but not yet raised.
* A block that ends in time is never interrupted, and its timer thread has ended when the ``with``
  statement has.
* Time limits do not nest: a ``time_limit`` inside another in the same thread raises
  ``RuntimeError`` (a thread has one slot for an asynchronous exception, so an inner limit could
  clear or take the outer one's).

Caveat (the same as with signals, whose Python handlers also run between bytecodes): the exception
is raised between bytecodes, so a long single C call (a huge integer power, a big ``mpmath``
product) runs to its end before it is interrupted. Keep the input bounded so that no single call is
long (:func:`.screen.guard_tree`), and keep a hard limit outside the process where one matters (the
checker's pool kills its child).
"""

from __future__ import annotations

import ctypes
import os
import threading
from types import TracebackType

__all__ = ["OutOfTime", "TimeLimit", "time_limit"]


class OutOfTime(BaseException):
    """The block ran past its time limit. A ``BaseException``, so that the ``except Exception``
    blocks of the code it interrupts (sympy has many) do not swallow it."""


# Called with the GIL held (PYFUNCTYPE), as the interpreter requires; a NULL exception clears a
# pending one. Its own prototype: ctypes.pythonapi's function objects are shared.
_set_async_exc = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_ulong, ctypes.py_object)(
    ("PyThreadState_SetAsyncExc", ctypes.pythonapi)
)
_NO_EXCEPTION = ctypes.py_object()

_local = threading.local()


def _forget_limits_in_child() -> None:
    # A forked child has no timer threads: a limit its parent's thread was under is not its own.
    _local.__dict__.clear()


os.register_at_fork(after_in_child=_forget_limits_in_child)


class TimeLimit:
    """The context manager :func:`time_limit` returns, for one ``with`` statement."""

    def __init__(self, seconds: float) -> None:
        self._seconds = min(seconds, threading.TIMEOUT_MAX)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._left = False  # the block has been left: the timer must not fire (under _lock)
        self._fired = False  # the timer has fired (under _lock)
        self._thread_id = 0
        self._timer: threading.Thread | None = None

    def _running(self) -> bool:
        return not (self._left or self._fired)

    def __enter__(self) -> None:
        if self._timer is not None:
            raise RuntimeError("a time limit is for one with statement")
        outer = getattr(_local, "limit", None)
        if outer is not None and outer._running():
            raise RuntimeError("time limits do not nest: this thread is already under one")
        if self._seconds <= 0:
            raise OutOfTime
        self._thread_id = threading.get_ident()
        self._timer = threading.Thread(target=self._expire, name="time-limit", daemon=True)
        self._timer.start()
        _local.limit = self

    def _expire(self) -> None:
        if self._wake.wait(self._seconds):
            return
        with self._lock:
            if not self._left:
                self._fired = True
                _set_async_exc(self._thread_id, OutOfTime)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Once _left is set under the lock the timer cannot fire; an exception it fired before may
        # still be pending (or be raised anywhere in here, which ends the with statement with it:
        # it was fired, so _running() is already false and the timer has nothing left to do).
        with self._lock:
            self._left = True
        # Clear only in the limited thread while this limit is its latest: an exit run late (a
        # wrapping generator closed by the garbage collector) must not clear a newer limit's.
        if (self._fired and threading.get_ident() == self._thread_id
                and getattr(_local, "limit", None) is self):
            _set_async_exc(self._thread_id, _NO_EXCEPTION)
        self._wake.set()
        if self._timer is not None:
            self._timer.join()


def time_limit(seconds: float) -> TimeLimit:
    """Interrupt the ``with`` block with :class:`OutOfTime` once ``seconds`` have passed.

    Works in any thread. ``OutOfTime`` is never raised after the ``with`` statement has ended;
    a long single C call is not interrupted before it returns (see the module docstring).

    Args:
        seconds: The time limit; at most 0 raises ``OutOfTime`` at once.

    Returns:
        A context manager for one ``with`` statement.

    Raises:
        RuntimeError: On entering, when the thread is already under a time limit (they do not nest).
    """
    return TimeLimit(seconds)
