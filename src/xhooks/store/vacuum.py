"""`xhooks db vacuum`: make a store give the space of pruned bodies back to the file system.

SQLite: a file created before xhooks set `auto_vacuum=INCREMENTAL` keeps freed pages for reuse but never shrinks;
one VACUUM rewrites it in the incremental mode (it needs as much free disk as the file takes and holds the
writer while it runs), after which pruning shrinks it as it goes. `xhooks db upgrade` does the same once.
PostgreSQL: autovacuum makes the space of pruned rows reusable; the files shrink only with `VACUUM FULL`, which
locks the tables, so xhooks leaves it to the operator.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from xhooks.errors import ConfigError, StoreError
from xhooks.store import _sqlite_retention
from xhooks.store.registry import engine_for

__all__ = ["vacuum"]


def vacuum(db: str | Path) -> str:
    """Migrate the SQLite file at `db` to incremental vacuum if it is not yet, give its free pages back, and
    say what was done.

    Raises:
        ConfigError: `db` is not a SQLite store, or does not exist.
        StoreError: the file cannot be written (another process holds it, read-only, disk full).
    """
    engine, path = engine_for(str(db))
    if engine != "sqlite":
        raise ConfigError(
            "only a SQLite store is vacuumed by xhooks; PostgreSQL reuses the space of pruned rows after"
            " autovacuum (VACUUM FULL, by hand, shrinks the files but locks the tables)"
        )
    if not Path(path).exists():
        raise ConfigError(f"no database at {path}; pass the --db that `xhooks serve` writes to")
    try:
        with contextlib.closing(sqlite3.connect(path, isolation_level=None, timeout=10.0)) as conn:
            size = conn.execute("PRAGMA page_count").fetchone()[0] * conn.execute("PRAGMA page_size").fetchone()[0]
            migrated = _sqlite_retention.make_incremental(conn)
            conn.execute("BEGIN IMMEDIATE")
            freed = _sqlite_retention.vacuum(conn, 2**31)
            conn.execute("COMMIT")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            now = conn.execute("PRAGMA page_count").fetchone()[0] * conn.execute("PRAGMA page_size").fetchone()[0]
    except sqlite3.Error as exc:
        raise StoreError(f"could not vacuum {path}: {exc}") from exc
    done = "rewritten for incremental vacuum" if migrated else f"{freed} free pages given back"
    return f"{done}; {size / 1e6:.1f} MB → {now / 1e6:.1f} MB"
