"""Real servers that a test starts, stops and starts again: Redis on a free port, and the
application itself under gunicorn. Loopback only, bounded waits, always cleaned up."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from sharedsvc import outbox
from sharedsvc.celery import app as celery_app
from tests.clock import subprocess_env

ROOT = Path(settings.BASE_DIR)
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition: Callable[[], bool], *, seconds: float = 30.0, every: float = 0.1) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return condition()


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


class RedisServer:
    """A redis-server of the test's own on 127.0.0.1, which it can stop and start again on
    the same port (as an outage would)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="test-redis-")
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 (a fixed binary and our own arguments)
            [
                REDIS_SERVER,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert wait_for(lambda: port_open(self.port), seconds=10), "redis-server did not start"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
        assert wait_for(lambda: not port_open(self.port), seconds=10)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.close()


def server_env(**extra: str) -> dict[str, str]:
    """The environment of a subprocess of the application that uses the test's database."""
    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "sharedsvc.settings"}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    env.update(extra)
    return subprocess_env(env)


@contextmanager
def gunicorn(*, env: dict[str, str], workers: int = 2) -> Iterator[str]:
    """The application under gunicorn on a free port; yields its base URL."""
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="test-gunicorn-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
        [
            sys.executable,
            "-m",
            "gunicorn",
            "sharedsvc.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--timeout",
            "60",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    try:
        assert wait_for(lambda: port_open(port), seconds=30), "gunicorn did not start"
        yield f"http://127.0.0.1:{port}"
    except BaseException:
        # What the server said is the first thing to read when a test against it fails.
        print(Path(log.name).read_text()[-20000:])
        raise
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)
        log.close()
        Path(log.name).unlink(missing_ok=True)


class Worker:
    """A Celery worker in a process (and session) of its own, on the test's database."""

    def __init__(self, *, broker_url: str, mail_dir: str | None = None) -> None:
        extra = {"REDIS_URL": broker_url, "LOG_LEVEL": "WARNING"}
        if mail_dir:
            extra |= {
                "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                "EMAIL_FILE_PATH": mail_dir,
            }
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed in stop)
            prefix="test-worker-", suffix=".log", delete=False
        )
        self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "sharedsvc",
                "worker",
                "--pool=solo",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=WARNING",
                f"--hostname=test-{os.getpid()}-{id(self)}@127.0.0.1",
            ],
            cwd=ROOT,
            env=server_env(**extra),
            stdout=self.log,
            stderr=self.log,
            start_new_session=True,
        )

    def kill(self) -> None:
        """SIGKILL, as the out-of-memory killer or a lost machine would."""
        self.stop(sig=signal.SIGKILL)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)
        self.log.close()

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")[-20000:]


@contextmanager
def celery_worker(*, broker_url: str, mail_dir: str | None = None) -> Iterator[Worker]:
    worker = Worker(broker_url=broker_url, mail_dir=mail_dir)
    try:
        yield worker
    except BaseException:
        # What the worker said is the first thing to read when a test against it fails.
        print(worker.output())
        raise
    finally:
        worker.stop()
        Path(worker.log.name).unlink(missing_ok=True)


@contextmanager
def broker(server: RedisServer | str) -> Iterator[None]:
    """This process's Celery (and so the outbox's dispatcher and the readiness ping) on the
    test's Redis (a server, or a URL such as one where nothing listens), then back."""
    url = server if isinstance(server, str) else server.url
    before = celery_app.conf.broker_url
    _drop_broker_connections()
    celery_app.conf.broker_url = url
    outbox._broker_down_until = 0.0
    try:
        yield
    finally:
        _drop_broker_connections()
        celery_app.conf.broker_url = before
        outbox._broker_down_until = 0.0


def _drop_broker_connections() -> None:
    # Celery keeps a pool of broker connections made with the URL of the time; a switch of
    # broker must not leave later tests holding connections to a Redis that is gone.
    # (Not closed: kombu keeps one pool per URL for the whole process, and would hand the
    # closed one back.)
    celery_app._pool = None
    # The producers (used by apply_async and by the control commands' pings) are pooled
    # per connection too; a new one is made for the new URL on first use.
    celery_app.amqp._producer_pool = None
