"""A mapping import's memory of the whole file, on disk: the listings already read (to refuse one that appears
twice) and the writes waiting for the whole file to be found clean. Both grow with the file, so they live in a
private temporary SQLite database (stdlib sqlite3, a page cache of a few MB) instead of Python dicts and lists,
and an import's memory stays flat however many rows it reads."""

import sqlite3
from collections.abc import Iterator, Sequence

# SQLite's limit on bound parameters is 32766: keys are looked up in slices well below it.
_SLICE = 5000
# One planned write: (channel id, channel SKU, item id, status, channel product id, channel UPC, row number).
Write = tuple[int, str, int | None, str, str, str, int]
_WRITE_COLUMNS = "channel_id, sku, item_id, status, product_id, upc, row"


class Scratch:
    def __init__(self) -> None:
        # "" opens a temporary database on disk, private to this connection and deleted when it is closed.
        self.db = sqlite3.connect("", isolation_level=None)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("CREATE TABLE seen (key TEXT PRIMARY KEY, row INTEGER NOT NULL) WITHOUT ROWID")
        self.db.execute(
            "CREATE TABLE writes (row INTEGER PRIMARY KEY, channel_id INTEGER, sku TEXT, item_id INTEGER, "
            "status TEXT, product_id TEXT, upc TEXT)"
        )

    def first_rows(self, keys: Sequence[tuple[str, int]]) -> dict[str, int]:
        """Remember each (key, row), the first row of a key winning (`keys` come in file order), and return the
        row each of these keys was first seen on, in this call or an earlier one."""
        with self.batch():
            self.db.executemany("INSERT OR IGNORE INTO seen (key, row) VALUES (?, ?)", keys)
        unique = list(dict.fromkeys(key for key, _ in keys))
        found: dict[str, int] = {}
        for start in range(0, len(unique), _SLICE):
            part = unique[start : start + _SLICE]
            marks = ",".join("?" * len(part))
            found.update(self.db.execute(f"SELECT key, row FROM seen WHERE key IN ({marks})", part))
        return found

    def add_writes(self, writes: Sequence[Write]) -> None:
        with self.batch():
            self.db.executemany(f"INSERT INTO writes ({_WRITE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)", writes)

    def writes(self, chunk_size: int) -> Iterator[list[Write]]:
        """The planned writes in file order, a chunk at a time."""
        cursor = self.db.execute(f"SELECT {_WRITE_COLUMNS} FROM writes ORDER BY row")
        while chunk := cursor.fetchmany(chunk_size):
            yield chunk

    def batch(self) -> "_Batch":
        return _Batch(self.db)

    def close(self) -> None:
        self.db.close()


class _Batch:
    """One transaction on the scratch database (autocommit otherwise: one per statement would be slow)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN")

    def __exit__(self, *exc: object) -> None:
        self.db.execute("COMMIT")
