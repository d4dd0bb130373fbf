"""The one time limit: it interrupts Python code in any thread, in time and never late."""

from __future__ import annotations

import multiprocessing
import sys
import threading
import time

import pytest

from jobs.explainer.mathcheck.deadline import OutOfTime, time_limit


def _spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def _spin_forever() -> None:
    while True:
        pass


def _timer_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "time-limit"]


def test_interrupts_a_python_loop_in_the_main_thread() -> None:
    assert threading.current_thread() is threading.main_thread()
    start = time.monotonic()
    with pytest.raises(OutOfTime), time_limit(0.2):
        _spin_forever()
    assert 0.2 <= time.monotonic() - start < 2
    assert not _timer_threads()


def test_interrupts_a_python_loop_in_a_worker_thread() -> None:
    outcome: list[str] = []

    def work() -> None:
        try:
            with time_limit(0.2):
                _spin_forever()
        except OutOfTime:
            outcome.append("out of time")

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(10)
    assert not worker.is_alive()
    assert outcome == ["out of time"]


def test_except_exception_does_not_swallow_it() -> None:
    # as in sympy, whose code catches Exception in many places
    with pytest.raises(OutOfTime), time_limit(0.1):
        while True:
            try:
                sum(range(1000))
            except Exception:
                pass


def test_a_block_that_ends_in_time_is_not_interrupted() -> None:
    with time_limit(0.3):
        _spin(0.1)
    _spin(0.5)  # past the limit, outside the block: nothing happens
    assert not _timer_threads()


def test_no_time_left_raises_before_the_block() -> None:
    ran = []
    for seconds in (0, -1):
        with pytest.raises(OutOfTime), time_limit(seconds):
            ran.append(seconds)
    assert ran == []


def test_never_fires_after_the_block() -> None:
    # Blocks that end about when their limit passes, so that the timer fires just before, during
    # or just after the exit; a short switch interval lets it run as soon as its time has passed.
    # OutOfTime must come out of the with statement or not at all.
    out_of_time = late = 0
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        for i in range(400):
            try:
                with time_limit(0.001):
                    _spin(0.0005 * (1 + i % 4))
            except OutOfTime:
                out_of_time += 1
            try:
                _spin(0.001)
            except OutOfTime:
                late += 1
    finally:
        sys.setswitchinterval(previous)
    assert late == 0
    assert 0 < out_of_time < 400  # both ways out were taken
    assert not _timer_threads()


def test_limits_do_not_nest() -> None:
    with time_limit(5):
        with pytest.raises(RuntimeError, match="do not nest"), time_limit(1):
            pass
        _spin(0.01)
    with time_limit(1):  # the outer one has ended
        pass


def test_a_limit_is_for_one_with_statement() -> None:
    limit = time_limit(1)
    with limit:
        pass
    with pytest.raises(RuntimeError, match="one with statement"), limit:
        pass


def test_a_new_limit_after_one_ran_out() -> None:
    for _ in range(3):
        with pytest.raises(OutOfTime), time_limit(0.05):
            _spin_forever()
    with time_limit(1):
        _spin(0.01)


def test_threads_have_their_own_limits() -> None:
    outcome: list[str] = []

    def work() -> None:
        try:
            with time_limit(0.1):
                _spin_forever()
        except OutOfTime:
            outcome.append("worker out of time")

    with time_limit(5):  # the main thread's limit neither blocks nor stops the worker's
        worker = threading.Thread(target=work)
        worker.start()
        worker.join(10)
        _spin(0.05)
    assert outcome == ["worker out of time"]


def _child(sender: multiprocessing.connection.Connection) -> None:
    try:
        with time_limit(0.1):
            _spin_forever()
    except OutOfTime:
        sender.send("out of time")
    except RuntimeError as exc:
        sender.send(str(exc))


def test_a_forked_child_is_not_under_its_parents_limit() -> None:
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    with time_limit(30):
        child = context.Process(target=_child, args=(sender,))
        child.start()
        child.join(20)
    assert receiver.poll(0)
    assert receiver.recv() == "out of time"
