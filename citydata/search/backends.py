"""Full-text backends behind one interface. Both only answer boolean questions — which documents contain
every group of terms (each group: any of its alternatives), optionally narrowed by a search's filters; how many
documents contain a group; and how the matches spread over facet combinations (`FacetSet`) — so the ranking, done
in Python over the stored terms (`engine.py`), is the same on both.

- SQLite: an FTS5 table whose rowid is the document id (the default).
- PostgreSQL: a tsvector of all terms ('simple' configuration: the terms are already analysed) with a GIN
  index, and each document's facet combination beside it.

For very large deployments a third backend (OpenSearch) would implement the same five methods over an index
fed by `index.reindex`; see docs/search.md.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from django.db import connection
from django.db.models.expressions import RawSQL

FIELDS = ("title_terms", "tag_terms", "field_terms", "org_terms", "body_terms", "pinyin_terms", "gram_terms")
Groups = list[list[str]]  # AND of ORs; a term is a run of letters or digits (analysis.py)
# A search's filters, facet name → wanted value: kind, and the datasets' domain, department, open_type, format and
# frequency (any of those means datasets only). Values are compared as SQL parameters, never spliced in.
Filters = dict[str, str]
DOCUMENTS = "search_searchdocument"
_COLUMNS = {"kind": "kind", "department": "department_code", "open_type": "open_type", "frequency": "frequency"}
_LISTS = {"domain": "domains", "format": "formats"}


class Backend(Protocol):
    def replace(self, rows: list[tuple[int, dict[str, Any]]]) -> None:
        """Index these documents (id, their term fields and "facet_set", the id of their facet combination)."""

    def delete(self, ids: list[int]) -> None: ...

    def match(self, groups: Groups, limit: int, *, titles: bool = False, filters: Filters | None = None) -> list[int]:
        """Ids of documents holding every group (and passing `filters`), the backend's own best first, at most
        `limit`; with `titles`, only documents holding them in their title, tags or title pinyin (a broad query's
        best candidates)."""

    def count(self, groups: Groups, filters: Filters | None = None) -> int: ...

    def facet_sets(self, groups: Groups, *, every: int = 1) -> list[tuple[int | None, int]]:
        """(facet combination id, documents) over every document holding every group; with `every` > 1, only
        over those whose id is a multiple of it (a systematic sample of a very broad match)."""


def _conditions(filters: Filters | None, vendor: str) -> tuple[str, list]:
    """SQL conditions on the document row `d` for `filters`."""
    if not filters:
        return "", []
    sql, params = [], []
    if any(name != "kind" for name in filters):
        sql.append("d.kind = %s")
        params.append("dataset")
    for name, value in sorted(filters.items()):
        if name in _COLUMNS:
            sql.append(f"d.{_COLUMNS[name]} = %s")
            params.append(value)
        elif name in _LISTS and vendor == "postgresql":
            sql.append(f"d.{_LISTS[name]} @> %s::jsonb")
            params.append(json.dumps([value]))
        elif name in _LISTS:
            sql.append(f"EXISTS (SELECT 1 FROM json_each(d.{_LISTS[name]}) WHERE value = %s)")
            params.append(value)
        else:
            raise ValueError(f"unknown search filter {name!r}")
    return " AND " + " AND ".join(sql), params


def _fts_term(term: str) -> str:
    """A term as an FTS5 string; a trailing * asks for every term starting with it."""
    prefix = term.endswith("*")
    term = term.rstrip("*")
    return '"' + term.replace('"', '""') + '"' + (" *" if prefix else "")


class SQLiteBackend:
    table = "search_fts"

    def replace(self, rows: list[tuple[int, dict[str, Any]]]) -> None:
        if not rows:
            return
        with connection.cursor() as cursor:
            cursor.executemany(f"DELETE FROM {self.table} WHERE rowid = %s", [(pk,) for pk, _terms in rows])
            marks = ", ".join(["%s"] * (len(FIELDS) + 1))
            cursor.executemany(
                f"INSERT INTO {self.table} (rowid, {', '.join(FIELDS)}) VALUES ({marks})",
                [(pk, *(terms.get(f, "") for f in FIELDS)) for pk, terms in rows],
            )

    def delete(self, ids: list[int]) -> None:
        with connection.cursor() as cursor:
            cursor.executemany(f"DELETE FROM {self.table} WHERE rowid = %s", [(pk,) for pk in ids])

    @staticmethod
    def _expression(groups: Groups) -> str:
        return " AND ".join("(" + " OR ".join(_fts_term(t) for t in group) + ")" for group in groups)

    def _from(self, filters: Filters | None) -> tuple[str, str, list]:
        where, params = _conditions(filters, "sqlite")
        join = f" JOIN {DOCUMENTS} d ON d.id = {self.table}.rowid" if where else ""
        return f"FROM {self.table}{join} WHERE {self.table} MATCH %s", where, params

    def match(self, groups: Groups, limit: int, *, titles: bool = False, filters: Filters | None = None) -> list[int]:
        expression = self._expression(groups)
        if titles:
            expression = "{title_terms tag_terms pinyin_terms} : (" + expression + ")"
        source, where, params = self._from(filters)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {self.table}.rowid {source}{where} ORDER BY bm25({self.table}, 10, 6, 4, 3, 1, 4, 2) LIMIT %s",
                [expression, *params, limit],
            )
            return [row[0] for row in cursor.fetchall()]

    def count(self, groups: Groups, filters: Filters | None = None) -> int:
        source, where, params = self._from(filters)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) {source}{where}", [self._expression(groups), *params])
            return cursor.fetchone()[0]

    def facet_sets(self, groups: Groups, *, every: int = 1) -> list[tuple[int | None, int]]:
        sample = f" AND {self.table}.rowid %% {int(every)} = 0" if every > 1 else ""
        with connection.cursor() as cursor:
            cursor.execute(
                # the narrow (id, facet_set) index: SQLite would otherwise read the wide rows of terms by rowid
                f"SELECT d.facet_set_id, count(*) FROM {self.table} "
                f"JOIN {DOCUMENTS} d INDEXED BY search_document_facets ON d.id = {self.table}.rowid "
                f"WHERE {self.table} MATCH %s{sample} GROUP BY d.facet_set_id",
                [self._expression(groups)],
            )
            return cursor.fetchall()


def _ts_term(term: str, weights: str = "") -> str:
    prefix = term.endswith("*")
    term = term.rstrip("*")
    return (
        "'"
        + term.replace("'", "''").replace("\\", "")
        + "'"
        + (":*" + weights if prefix else f":{weights}" if weights else "")
    )


class PostgresBackend:
    table = "search_vector"

    def replace(self, rows: list[tuple[int, dict[str, Any]]]) -> None:
        if not rows:
            return
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {self.table} (id, vector, facet_set) VALUES (%s, "
                "setweight(to_tsvector('simple', %s), 'A') || setweight(to_tsvector('simple', %s), 'B') || "
                "setweight(to_tsvector('simple', %s), 'C') || to_tsvector('simple', %s), %s) "
                "ON CONFLICT (id) DO UPDATE SET vector = EXCLUDED.vector, facet_set = EXCLUDED.facet_set",
                [
                    (
                        pk,
                        terms.get("title_terms", ""),
                        " ".join(terms.get(f, "") for f in ("tag_terms", "pinyin_terms")),
                        " ".join(terms.get(f, "") for f in ("field_terms", "org_terms", "gram_terms")),
                        terms.get("body_terms", ""),
                        terms.get("facet_set"),
                    )
                    for pk, terms in rows
                ],
            )

    def delete(self, ids: list[int]) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {self.table} WHERE id = ANY(%s)", [ids])

    @staticmethod
    def _query(groups: Groups, weights: str = "") -> str:
        return " & ".join("(" + " | ".join(_ts_term(t, weights) for t in group) + ")" for group in groups)

    def _from(self, filters: Filters | None) -> tuple[str, str, list]:
        where, params = _conditions(filters, "postgresql")
        join = f" JOIN {DOCUMENTS} d ON d.id = v.id" if where else ""
        return f"FROM {self.table} v{join}, to_tsquery('simple', %s) AS q WHERE v.vector @@ q", where, params

    def match(self, groups: Groups, limit: int, *, titles: bool = False, filters: Filters | None = None) -> list[int]:
        source, where, params = self._from(filters)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT v.id {source}{where} ORDER BY ts_rank(v.vector, q) DESC, v.id LIMIT %s",
                [self._query(groups, "AB" if titles else ""), *params, limit],  # A: title, B: tags and pinyin
            )
            return [row[0] for row in cursor.fetchall()]

    def count(self, groups: Groups, filters: Filters | None = None) -> int:
        source, where, params = self._from(filters)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) {source}{where}", [self._query(groups), *params])
            return cursor.fetchone()[0]

    def facet_sets(self, groups: Groups, *, every: int = 1) -> list[tuple[int | None, int]]:
        sample = f" AND id %% {int(every)} = 0" if every > 1 else ""
        with connection.cursor() as cursor:
            cursor.execute(
                # the combination is kept beside the vector: the rows the match reads anyway, no join
                f"SELECT facet_set, count(*) FROM {self.table} "
                f"WHERE vector @@ to_tsquery('simple', %s){sample} GROUP BY facet_set",
                [self._query(groups)],
            )
            return cursor.fetchall()


def id_list(ids: list[int]) -> RawSQL:
    """`ids` as one SQL parameter for `pk__in` (an ORM IN list of hundreds of ids costs milliseconds to compile)."""
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", [list(ids)])
    return RawSQL("SELECT value FROM json_each(%s)", [json.dumps(list(ids))])


def get_backend() -> Backend:
    return PostgresBackend() if connection.vendor == "postgresql" else SQLiteBackend()


def create_index(schema_editor) -> None:
    """The backend's index table, created by the migration for the database in use."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE TABLE {PostgresBackend.table} (id bigint PRIMARY KEY, vector tsvector NOT NULL)")
        schema_editor.execute(f"CREATE INDEX search_vector_gin ON {PostgresBackend.table} USING gin (vector)")
    else:
        columns = ", ".join(FIELDS)
        tokenizer = "tokenize = 'unicode61 remove_diacritics 0'"
        schema_editor.execute(f"CREATE VIRTUAL TABLE {SQLiteBackend.table} USING fts5({columns}, {tokenizer})")


def drop_index(schema_editor) -> None:
    table = PostgresBackend.table if schema_editor.connection.vendor == "postgresql" else SQLiteBackend.table
    schema_editor.execute(f"DROP TABLE IF EXISTS {table}")
