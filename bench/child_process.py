"""Runs one benchmark step in a fresh (spawned) child process.

The Serve measurements need it: the child is the Ray driver, so its niceness and Ray's
global state are its own, and the parent can run other systems before and after.
"""
from __future__ import annotations

import multiprocessing
import signal
import sys
import traceback


def _child_main(send, fn, args) -> None:
    # The parent stops this child with one SIGTERM (Ray's driver handler turns it into SystemExit, and so does
    # this one before ray.init), so that Ray and Redis are shut down; a terminal's Ctrl-C reaches the parent,
    # which sends it.
    signal.signal(signal.SIGINT, lambda *_: None)
    signal.signal(signal.SIGTERM, lambda signum, _: sys.exit(signum))
    try:
        send.send(("ok", fn(*args)))
    except BaseException as e:
        send.send(("error", "".join(traceback.format_exception(e))))
    finally:
        send.close()


def in_child(fn, *args):
    """fn(*args) in a fresh (spawned) process; its result, or a RuntimeError with its traceback."""
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child_main, args=(send, fn, args))
    child.start()
    send.close()
    try:
        status, payload = receive.recv()
        child.join(120)
    except EOFError:
        child.join(10)
        raise RuntimeError(f"the benchmark's child process died (exit code {child.exitcode})") from None
    finally:  # also on Ctrl-C here: the child shuts Ray and Redis down before it goes
        if child.is_alive():
            child.terminate()  # SIGTERM, once
            child.join(120)
        if child.is_alive():
            child.kill()
            child.join()
        receive.close()
    if status == "error":
        raise RuntimeError(f"in the benchmark's child process:\n{payload}")
    return payload
