"""Loaded by Python at start-up in the processes the tests start when the suite runs on
another day (`tests/clock.py`): the process's clock runs `TEST_CLOCK_OFFSET` seconds
ahead of the real one, as the test process's does."""

import os
import time

import time_machine

_offset = os.environ.get("TEST_CLOCK_OFFSET")
if _offset:
    time_machine.travel(time.time() + float(_offset), tick=True).start()
