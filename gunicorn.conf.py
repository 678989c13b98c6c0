"""gunicorn's settings, read from the working directory by every `gunicorn sharedsvc.wsgi`
(make run, the README's production line, the benchmarks and the tests' servers).

Threaded workers: a list's CSV streams for as long as the list is (a million charges take
about a minute), and a sync worker that spends more than `timeout` seconds on one request
is killed mid-file. A gthread worker's main thread keeps telling the master it is alive
while its threads serve, so `timeout` catches a hung worker, not a long download.
"""

import gc

worker_class = "gthread"
threads = 4
timeout = 30


def post_worker_init(worker) -> None:
    """Move what the app loaded at start-up out of the garbage collector's sight: it lives
    as long as the worker, and every collection walked it again (about 1.5 ms a request on
    a list of 50, 4 ms on a list of cases; measured for issue 15)."""
    gc.collect()
    gc.freeze()
