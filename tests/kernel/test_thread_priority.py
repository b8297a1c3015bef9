"""A thread put one step behind its process: only that thread, and the threads it starts."""
import os
import threading

import pytest

from soundloop import thread_priority

pytestmark = pytest.mark.unit


def nice_of(native_id: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, native_id)


def _in_a_thread(work) -> None:
    thread = threading.Thread(target=work)
    thread.start()
    thread.join()


def test_the_calling_thread_and_the_threads_it_starts_are_lowered_and_no_other():
    base = nice_of(threading.get_native_id())
    seen: dict[str, int] = {}

    def work():
        thread_priority.lower_this_thread(3, "test work")
        seen["lowered"] = nice_of(threading.get_native_id())
        _in_a_thread(lambda: seen.setdefault("started by it", nice_of(threading.get_native_id())))

    _in_a_thread(work)
    assert seen == {"lowered": min(19, base + 3), "started by it": min(19, base + 3)}
    assert nice_of(threading.get_native_id()) == base


def test_the_nice_value_stops_at_19():
    seen = []

    def work():
        thread_priority.lower_this_thread(40, "test work")
        seen.append(nice_of(threading.get_native_id()))

    _in_a_thread(work)
    assert seen == [19]


def test_a_refusal_is_logged_and_the_thread_goes_on(monkeypatch, caplog):
    def refuse(*_):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "setpriority", refuse)
    thread_priority.lower_this_thread(5, "the LLM's decoding")
    assert "the LLM's decoding stays at its thread's priority" in caplog.text
