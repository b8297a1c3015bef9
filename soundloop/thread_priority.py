"""A thread one step behind the rest of its process on a contended core.

Linux keeps a nice value per thread, and threads started from one inherit it, so a
stage can put one kind of work (offline clips, the LLM's decoding) behind the rest of
its own work and the other stages' without touching them.
"""
from __future__ import annotations

import logging
import os
import threading

log = logging.getLogger(__name__)

MAX_NICE = 19


def lower_this_thread(steps: int, work: str) -> None:
    """Raises the calling thread's nice value by `steps` (to 19 at most). Where the system refuses (a
    sandbox), `work` is logged as running at the old priority rather than not at all."""
    me = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, me, min(MAX_NICE, os.getpriority(os.PRIO_PROCESS, me) + steps))
    except OSError as err:
        log.warning("%s stays at its thread's priority: %s", work, err)
