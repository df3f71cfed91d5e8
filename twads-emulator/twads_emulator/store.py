"""SQLite state of the emulator: one table of entities, indexed by the columns the API filters on.

Every entity is stored whole as JSON (``data``); the columns beside it are copies of the fields that list
endpoints filter and sort on, so that paging over 100,000 line items stays a cheap indexed query.
One connection serves all threads (``check_same_thread=False``) behind a lock; in practice every call
comes from the server's event loop thread.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from twads_emulator.seed import seed_entities

KINDS = (
    "accounts",
    "funding_instruments",
    "campaigns",
    "line_items",
    "targeting_criteria",
    "promoted_tweets",
)
# The column that holds each kind's parent ID.
PARENT_FIELD = {
    "accounts": None,
    "funding_instruments": None,
    "campaigns": "funding_instrument_id",
    "line_items": "campaign_id",
    "targeting_criteria": "line_item_id",
    "promoted_tweets": "line_item_id",
}
# Columns that may appear in ORDER BY directly; other sort fields go through json_extract.
_COLUMNS = ("id", "name", "created_at", "updated_at", "deleted", "entity_status")
_ID_BASE = 36**5  # generated IDs are 6 base-36 characters, above every seeded 5-character ID

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entities (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    account_id TEXT,
    parent_id TEXT,
    funding_instrument_id TEXT,
    entity_status TEXT,
    deleted INTEGER NOT NULL DEFAULT 0,
    name TEXT,
    created_at TEXT,
    updated_at TEXT,
    seq INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX IF NOT EXISTS entities_parent ON entities (kind, account_id, parent_id, deleted);
CREATE INDEX IF NOT EXISTS entities_seq ON entities (kind, account_id, seq);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def _b36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out or "0"


class Store:
    """Entity storage. Methods return plain dicts (the stored JSON)."""

    def __init__(self, db_path: str | None = None) -> None:
        """Open (and seed, if empty) the database.

        :param db_path: a file that keeps the state across restarts; ``None`` keeps it in memory.
        """
        self.db_path = db_path or ":memory:"
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(self.db_path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL" if db_path else "PRAGMA journal_mode=MEMORY")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        if self._meta("seeded") is None:
            self.reset()

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()

    # ---- transactions ------------------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together or not at all (batches are all or nothing)."""
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                yield
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    # ---- meta ---------------------------------------------------------------------------------------
    def _meta(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _set_meta(self, key: str, value: str) -> None:
        self._conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def _next_seq(self, n: int = 1) -> int:
        """Reserve ``n`` sequence numbers and return the first."""
        first = int(self._meta("seq") or "0") + 1
        self._set_meta("seq", str(first + n - 1))
        return first

    def new_id(self, seq: int) -> str:
        """The opaque ID of the entity created with sequence number ``seq``."""
        return _b36(_ID_BASE + seq)

    # ---- reset / seed -------------------------------------------------------------------------------
    def reset(self) -> None:
        """Drop every entity and load the seed."""
        with self.transaction():
            self._conn.execute("DELETE FROM entities")
            self._conn.execute("DELETE FROM meta")
            for kind, records in seed_entities().items():
                for record in records:
                    self.create(kind, lambda _new_id, r=record: r)
            self._set_meta("seeded", "1")

    # ---- rows ---------------------------------------------------------------------------------------
    @staticmethod
    def _row(kind: str, record: dict[str, Any], seq: int) -> tuple[Any, ...]:
        parent = PARENT_FIELD[kind]
        return (
            kind,
            record["id"],
            record.get("account_id", record["id"] if kind == "accounts" else None),
            record.get(parent) if parent else None,
            record.get("funding_instrument_id"),
            record.get("entity_status"),
            1 if record.get("deleted") else 0,
            record.get("name"),
            record.get("created_at"),
            record.get("updated_at"),
            seq,
            json.dumps(record, separators=(",", ":")),
        )

    def create(self, kind: str, build: Any) -> dict[str, Any]:
        """Insert a new entity: ``build(new_id)`` returns its record (seeded records keep their own ID).

        :param kind: the entity kind.
        :param build: a callable from the new ID to the full record.
        """
        with self._lock:
            seq = self._next_seq()
            record: dict[str, Any] = build(self.new_id(seq))
            self._conn.execute(
                "INSERT INTO entities VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", self._row(kind, record, seq)
            )
            return record

    def bulk_create(self, kind: str, template: dict[str, Any], count: int, name_format: str) -> list[str]:
        """Insert ``count`` copies of ``template`` with new IDs and names ``name_format.format(i)``.

        The JSON is rendered once and the per-row fields substituted, so that 100,000 rows take a few
        seconds (one ``executemany`` in one transaction).
        """
        id_mark, name_mark = "\x00id\x00", "\x00name\x00"
        rendered = json.dumps({**template, "id": id_mark, "name": name_mark}, separators=(",", ":"))
        head = self._row(kind, {**template, "id": "", "name": ""}, 0)
        with self.transaction():
            first = self._next_seq(count)
            ids = [self.new_id(first + i) for i in range(count)]
            id_json, name_json = json.dumps(id_mark), json.dumps(name_mark)

            def rows() -> Iterator[tuple[Any, ...]]:
                for i, id_ in enumerate(ids):
                    name = name_format.format(i)
                    data = rendered.replace(id_json, json.dumps(id_)).replace(name_json, json.dumps(name))
                    yield (head[0], id_, *head[2:7], name, head[8], head[9], first + i, data)

            self._conn.executemany("INSERT INTO entities VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows())
        return ids

    def update(self, kind: str, record: dict[str, Any]) -> None:
        """Write back a changed record (same ID)."""
        with self._lock:
            row = self._row(kind, record, 0)
            self._conn.execute(
                "UPDATE entities SET account_id=?, parent_id=?, funding_instrument_id=?, entity_status=?,"
                " deleted=?, name=?, created_at=?, updated_at=?, data=? WHERE kind=? AND id=?",
                (*row[2:10], row[11], kind, record["id"]),
            )

    def get(self, kind: str, id_: str) -> dict[str, Any] | None:
        """One entity by ID (deleted or not), or None."""
        with self._lock:
            row = self._conn.execute(
                "SELECT data FROM entities WHERE kind=? AND id=?", (kind, id_)
            ).fetchone()
        return json.loads(row[0]) if row else None

    def count(self, kind: str, **where: Any) -> int:
        """Count entities matching equality filters on columns (``parent_id``, ``deleted``, ...)."""
        sql, args = self._where(kind, where)
        with self._lock:
            return int(self._conn.execute(f"SELECT COUNT(*) FROM entities WHERE {sql}", args).fetchone()[0])

    def find(self, kind: str, limit: int = -1, **where: Any) -> list[dict[str, Any]]:
        """Entities matching equality filters on columns, in creation order (the first ``limit``; all by
        default)."""
        sql, args = self._where(kind, where)
        with self._lock:
            rows = self._conn.execute(
                f"SELECT data FROM entities WHERE {sql} ORDER BY seq LIMIT ?", [*args, limit]
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def distinct(self, kind: str, field: str, **where: Any) -> set[str]:
        """The distinct values of one JSON field among entities matching equality filters on columns
        (read by SQLite, without decoding each entity in Python)."""
        sql, args = self._where(kind, where)
        with self._lock:
            rows = self._conn.execute(
                f"SELECT DISTINCT json_extract(data, '$.{field}') FROM entities WHERE {sql}", args
            ).fetchall()
        return {r[0] for r in rows if r[0] is not None}

    @staticmethod
    def _where(kind: str, where: dict[str, Any]) -> tuple[str, list[Any]]:
        clauses: list[str] = ["kind = ?"]
        args: list[Any] = [kind]
        for column, value in where.items():
            clauses.append(f"{column} = ?")
            args.append(int(value) if isinstance(value, bool) else value)
        return " AND ".join(clauses), args

    def query(
        self,
        kind: str,
        *,
        account_id: str | None,
        filters: dict[str, Iterable[str]],
        with_deleted: bool,
        drafts: str = "any",
        name_prefix: str | None = None,
        exclude_deleted_parents: bool = False,
        sort: tuple[str, bool] | None = None,
        offset: int = 0,
        after_seq: int | None = None,
        limit: int = 200,
        with_total: bool = False,
    ) -> tuple[list[dict[str, Any]], int | None, int | None]:
        """A page of a list endpoint.

        :param kind: the entity kind.
        :param account_id: restrict to this account (None for accounts themselves).
        :param filters: column -> allowed values (``id``, ``parent_id``, ``funding_instrument_id``, ...).
        :param with_deleted: include deleted entities.
        :param drafts: ``any``, ``exclude`` or ``only`` (entities whose own status is DRAFT).
        :param name_prefix: case-insensitive prefix match on ``name`` (the ``q`` parameter).
        :param exclude_deleted_parents: hide entities whose parent line item is deleted.
        :param sort: (field, descending) or None for creation order.
        :param offset: rows to skip (decoded from the cursor), unless ``after_seq`` is given.
        :param after_seq: creation order only: start after the row with this sequence number.
        :param limit: page size.
        :param with_total: also count every matching row.
        :return: (page, the page's last sequence number if more rows follow else None, total count or None).
        """
        clauses: list[str] = ["kind = ?"]
        args: list[Any] = [kind]
        if account_id is not None:
            clauses.append("account_id = ?")
            args.append(account_id)
        for column, values in filters.items():
            values = list(values)
            if not values:
                return [], None, 0 if with_total else None
            clauses.append(f"{column} IN ({','.join('?' * len(values))})")
            args.extend(values)
        if not with_deleted:
            clauses.append("deleted = 0")
        if drafts == "exclude":
            clauses.append("(entity_status IS NULL OR entity_status != 'DRAFT')")
        elif drafts == "only":
            clauses.append("entity_status = 'DRAFT'")
        if name_prefix:
            clauses.append("name LIKE ? ESCAPE '\\'")
            escaped = name_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            args.append(escaped + "%")
        if exclude_deleted_parents:
            clauses.append(
                "parent_id NOT IN (SELECT id FROM entities WHERE kind = 'line_items' AND deleted = 1)"
            )
        where = " AND ".join(clauses)
        page_where, page_args = where, list(args)
        if after_seq is not None and sort is None:
            page_where, offset = f"{where} AND seq > ?", 0
            page_args.append(after_seq)
        if sort is None:
            order = "seq"
        else:
            field, desc = sort
            expr = field if field in _COLUMNS else f"json_extract(data, '$.{field}')"
            order = f"{expr} {'DESC' if desc else 'ASC'}, seq {'DESC' if desc else 'ASC'}"
        with self._lock:
            rows = self._conn.execute(
                f"SELECT seq, data FROM entities WHERE {page_where} ORDER BY {order} LIMIT ? OFFSET ?",
                (*page_args, limit + 1, offset),
            ).fetchall()
            total = None
            if with_total:
                total = int(
                    self._conn.execute(f"SELECT COUNT(*) FROM entities WHERE {where}", args).fetchone()[0]
                )
        last_seq = rows[limit - 1][0] if len(rows) > limit else None
        return [json.loads(r[1]) for r in rows[:limit]], last_seq, total

    def dump_json(self, kinds: Iterable[str] = KINDS) -> dict[str, str]:
        """Every entity (deleted included) by kind, in creation order, as JSON array text (not parsed:
        the admin API passes the stored JSON through, which keeps 100,000 rows cheap)."""
        out = {}
        with self._lock:
            for kind in kinds:
                rows = self._conn.execute("SELECT data FROM entities WHERE kind = ? ORDER BY seq", (kind,))
                out[kind] = "[" + ",".join(r[0] for r in rows) + "]"
        return out
