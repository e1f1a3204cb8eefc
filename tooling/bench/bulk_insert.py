"""Bulk SQL inserts: cloning rows in SQL, and the plain indexes and row
triggers set aside while they run."""

import time

from .report import say

INDEX_MEMORY = "256MB"  # maintenance_work_mem while the indexes are built


class BulkInsert:
    """Clones rows in SQL within one transaction. ``bulk_tables``: the tables
    filled in bulk, whose plain indexes and foreign key checks wait until the
    inserts are done.

    The SQL is written in this package, never taken from user input;
    ``%(...)s`` parameters carry the values.
    """

    bulk_tables = ()

    def __init__(self, cr):
        self.cr = cr

    def sql(self, query, params=None):
        self.cr.execute(query, params or {})

    def columns(self, table):
        self.sql(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %(t)s "
            "ORDER BY ordinal_position",
            {"t": table},
        )
        return [name for (name,) in self.cr.fetchall()]

    def max_id(self, table):
        self.sql(f'SELECT COALESCE(max(id), 0) FROM "{table}"')
        return self.cr.fetchone()[0]

    def clone(self, table, from_clause, overrides, params):
        """INSERT INTO table SELECT every column of ``src`` but those overridden.

        ``from_clause`` must define the alias ``src`` (the template row).
        """
        columns = self.columns(table)
        exprs = [overrides.get(col, f'src."{col}"') for col in columns]
        names = ", ".join(f'"{col}"' for col in columns)
        self.sql(
            f'INSERT INTO "{table}" ({names}) '
            f"SELECT {', '.join(exprs)} FROM {from_clause}",
            params,
        )
        return self.cr.rowcount

    def nullify(self, table, overrides, names):
        """Set the columns ``names`` of ``table`` that exist to NULL in the clones."""
        columns = set(self.columns(table))
        for name in names:
            if name in columns:
                overrides.setdefault(name, "NULL")
        return overrides

    def drop_plain_indexes(self):
        """Drop the plain indexes of the bulk-filled tables; return their
        (name, definition).

        Plain: neither unique nor backing a constraint (primary keys, unique
        and exclusion constraints stay, ON CONFLICT needs them). Maintaining
        them row by row through a million inserts costs more than building
        them once afterwards (``create_indexes``). Same transaction: a failed
        build leaves the indexes as they were.
        """
        t0 = time.perf_counter()
        self.sql(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
            "FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
            "WHERE t.relname IN %(tables)s "
            "AND t.relnamespace = current_schema()::regnamespace "
            "AND NOT i.indisunique AND NOT i.indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
            "WHERE c.conindid = i.indexrelid) ORDER BY 1",
            {"tables": self.bulk_tables},
        )
        indexes = self.cr.fetchall()
        for name, _definition in indexes:
            self.sql(f"DROP INDEX {name}")  # regclass::text is quoted as needed
        say(f"{len(indexes)} plain indexes dropped in {time.perf_counter() - t0:.1f} s")
        return indexes

    def skip_row_triggers(self):
        """Skip the row triggers, the foreign key checks, during the clones,
        when the database user may (a superuser, as in the private cluster).

        They are most of an insert's time (a trigger call per row and key:
        77% of the work order lines' insert, measured at --scale 0.1);
        ``check_foreign_keys`` checks every key once afterwards, set-based.
        Returns whether they are skipped.
        """
        self.sql("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if not self.cr.fetchone()[0]:
            say("not a superuser: foreign keys checked row by row")
            return False
        self.sql("SET LOCAL session_replication_role = replica")
        return True

    def check_foreign_keys(self):
        """Every foreign key of the bulk-filled tables, checked in one query
        per key (an anti-join); the transaction fails on a dangling one."""
        t0 = time.perf_counter()
        self.sql("SET LOCAL session_replication_role = DEFAULT")
        self.sql(
            "SELECT t.relname, a.attname, c.confrelid::regclass::text, pa.attname "
            "FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
            "JOIN pg_attribute a ON a.attrelid = c.conrelid "
            "AND a.attnum = c.conkey[1] "
            "JOIN pg_attribute pa ON pa.attrelid = c.confrelid "
            "AND pa.attnum = c.confkey[1] "
            "WHERE c.contype = 'f' AND cardinality(c.conkey) = 1 "
            "AND t.relname IN %(tables)s "
            "AND t.relnamespace = current_schema()::regnamespace ORDER BY 1, 2",
            {"tables": self.bulk_tables},
        )
        keys = self.cr.fetchall()
        for table, column, parent, parent_column in keys:
            self.sql(
                f'SELECT count(*) FROM "{table}" c WHERE c."{column}" IS NOT NULL '
                f'AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE p."{parent_column}" '
                f'= c."{column}")'
            )
            dangling = self.cr.fetchone()[0]
            if dangling:
                raise RuntimeError(
                    f"{table}.{column}: {dangling} rows refer to no {parent} row"
                )
        say(f"{len(keys)} foreign keys checked in {time.perf_counter() - t0:.1f} s")

    def create_indexes(self, indexes):
        """Build the indexes dropped by ``drop_plain_indexes`` again."""
        t0 = time.perf_counter()
        self.sql(f"SET LOCAL maintenance_work_mem = '{INDEX_MEMORY}'")
        for _name, definition in indexes:
            self.sql(definition)
        say(f"{len(indexes)} indexes built in {time.perf_counter() - t0:.1f} s")
