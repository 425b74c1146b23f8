"""pgsr with pg-sync-roles' API.

Changing ``from pg_sync_roles import ...`` to ``from pgsr import ...`` is
enough: the same functions, dataclasses, fields, defaults and keyword
arguments, run on the SQLAlchemy connection passed in (dialects
``postgresql+psycopg`` and ``postgresql+psycopg2``), inside one transaction
begun and committed here (rolled back on error), as pg-sync-roles does.
Planning is pgsr's Rust planner (``pgsr._engine``); this module only moves
rows and statements.
"""

import re
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
import json
from typing import Union

from pgsr._engine import PgsrError, Sync, regex_error

__all__ = [
    "DatabaseConnect",
    "GrantOnPartitionsMode",
    "Login",
    "PgsrError",
    "PgsrWarning",
    "RoleMembership",
    "SchemaCreate",
    "SchemaOwnership",
    "SchemaUsage",
    "TableOwnership",
    "TableSelect",
    "drop_unused_roles",
    "sync_roles",
]


class PgsrWarning(UserWarning):
    """A warning of pgsr's planner, in the command line's words: a role to
    be created whose name differs from an existing role's only by case."""


class GrantOnPartitionsMode(Enum):
    NONE = 1
    DIRECT_CHILDREN = 2


@dataclass(frozen=True)
class DatabaseConnect:
    database_name: str


@dataclass(frozen=True)
class SchemaUsage:
    schema_name: str
    direct: bool = False


@dataclass(frozen=True)
class SchemaCreate:
    schema_name: str
    direct: bool = False


@dataclass(frozen=True)
class SchemaOwnership:
    schema_name: str


@dataclass(frozen=True)
class TableOwnership:
    schema_name: str
    table_name: str


@dataclass(frozen=True)
class TableSelect:
    schema_name: str
    table_name: Union[str, re.Pattern]
    grant_on_partitions: GrantOnPartitionsMode = GrantOnPartitionsMode.NONE
    direct: bool = False


@dataclass(frozen=True)
class Login:
    valid_until: datetime = None
    password: str = None

    def __str__(self):
        return f"with password: (redacted) until {self.valid_until}"

    def __repr__(self):
        password = "None" if self.password is None else "'(redacted)'"
        return f"Login(valid_until={self.valid_until!r}, password={password})"


@dataclass(frozen=True)
class RoleMembership:
    role_name: str


@contextmanager
def _transaction(conn):
    try:
        conn.begin()
        yield
    except BaseException:
        conn.rollback()
        raise
    else:
        conn.commit()


def _execute(conn, sql):
    # Both drivers read `%` as a placeholder's start (SQLAlchemy hands them
    # an empty set of parameters): doubled, it is the character itself.
    return conn.exec_driver_sql(sql.replace("%", "%%"))


def _rows(conn, sql):
    return [tuple(row) for row in _execute(conn, sql).fetchall()]


_VERIFIER = re.compile(r"PASSWORD '[^']*'")


def _apply(conn, statements):
    """Runs `statements` in one round trip, in order: the first that fails
    ends the transaction with its error, the driver's as pg-sync-roles
    raises it, but with any password verifier taken out of the statements
    it shows."""
    try:
        _execute(conn, ";\n".join(statements))
    except Exception as e:
        if isinstance(getattr(e, "statement", None), str):
            e.statement = _VERIFIER.sub("PASSWORD '(redacted)'", e.statement)
        raise


def _fetch(conn, sql, params):
    # `sql` is in the drivers' style already (`%(p1)s`, `%%`).
    return [tuple(row) for row in conn.exec_driver_sql(sql, params).fetchall()]


# Python `re` constructs pgsr's engine (Rust's `regex`) lacks or reads
# otherwise, by what they are called.
_PYTHON_ONLY = [
    (re.compile(r"\(\?="), "look-ahead (?=...)"),
    (re.compile(r"\(\?!"), "negative look-ahead (?!...)"),
    (re.compile(r"\(\?<="), "look-behind (?<=...)"),
    (re.compile(r"\(\?<!"), "negative look-behind (?<!...)"),
    (re.compile(r"\(\?P="), "named backreference (?P=name)"),
    (re.compile(r"\\[1-9]"), "backreference \\N"),
    (re.compile(r"\(\?\("), "conditional (?(...)...)"),
    (re.compile(r"\(\?>"), "atomic group (?>...)"),
    (re.compile(r"(?<!\\)[*+?}]\+"), "possessive quantifier"),
    (re.compile(r"\\Z"), "\\Z (end of string)"),
]


def _strip_escapes_and_classes(pattern):
    """The pattern with escaped characters and character classes blanked,
    so that a construct is looked for only where it is one."""
    out, i, n = [], 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            nxt = pattern[i + 1]
            # Keep escapes that are constructs themselves.
            out.append("\\" + nxt if nxt.isdigit() or nxt == "Z" else "__")
            i += 2
        elif c == "[":
            j = i + 1
            if j < n and pattern[j] == "^":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 2 if pattern[j] == "\\" else 1
            out.append("_" * (min(j, n - 1) - i + 1))
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _rust_pattern(pattern):
    """`pattern` (a compiled Python pattern) as pgsr's engine reads the
    same: its flags inline, `$` as Python's (also before a final newline).
    A construct read otherwise is a ValueError naming it."""
    if not isinstance(pattern.pattern, str):
        raise ValueError("a bytes pattern: table names are text; compile a str pattern")
    flags = pattern.flags
    if flags & re.ASCII:
        raise ValueError("re.ASCII: pgsr's engine matches \\w, \\d, \\s and \\b in Unicode only")
    if flags & re.LOCALE:
        raise ValueError("re.LOCALE: not supported by pgsr's engine")
    source = pattern.pattern
    bare = _strip_escapes_and_classes(source)
    for construct, name in _PYTHON_ONLY:
        if construct.search(bare):
            raise ValueError(
                f"table_name pattern {source!r} uses a {name}, which pgsr's engine does not read as Python does"
            )
    inline = ""
    for flag, letter in ((re.IGNORECASE, "i"), (re.MULTILINE, "m"), (re.DOTALL, "s"), (re.VERBOSE, "x")):
        if flags & flag:
            inline += letter
    if not flags & re.MULTILINE:
        # Python's `$` also matches before a newline that ends the string.
        rebuilt, i = [], 0
        for j, c in enumerate(bare):
            if c == "$":
                rebuilt.append(source[i:j] + "(?:\\n?\\z)")
                i = j + 1
        rebuilt.append(source[i:])
        source = "".join(rebuilt)
    translated = f"(?{inline}){source}" if inline else source
    error = regex_error(translated)
    if error is not None:
        raise ValueError(f"table_name pattern {pattern.pattern!r}: {error}")
    return translated


def _timestamp(value):
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    return value


def _grant(grant):
    if isinstance(grant, DatabaseConnect):
        return {"database_connect": grant.database_name}
    if isinstance(grant, SchemaUsage):
        return {"schema_usage": {"schema": grant.schema_name, "direct": grant.direct}}
    if isinstance(grant, SchemaCreate):
        return {"schema_create": {"schema": grant.schema_name, "direct": grant.direct}}
    if isinstance(grant, SchemaOwnership):
        return {"schema_ownership": grant.schema_name}
    if isinstance(grant, TableOwnership):
        return {"table_ownership": {"schema": grant.schema_name, "table": grant.table_name}}
    if isinstance(grant, TableSelect):
        selected = {"schema": grant.schema_name, "direct": grant.direct}
        if isinstance(grant.table_name, re.Pattern):
            selected["table_regex"] = _rust_pattern(grant.table_name)
        else:
            selected["table"] = grant.table_name
        return {"table_select": selected}
    if isinstance(grant, RoleMembership):
        return {"role_membership": grant.role_name}
    raise ValueError(f"unknown grant {type(grant).__name__}")


def _desired(role_name, grants, preserve_existing_grants_in_schemas, lock_key):
    """The desired state's JSON, and the `table_select` grants that also
    reach the direct children of the tables they name."""
    items, children_of = [], []
    for grant in grants:
        if isinstance(grant, Login):
            login = {}
            if grant.password is not None:
                login["password"] = grant.password
            if grant.valid_until is not None:
                login["valid_until"] = _timestamp(grant.valid_until)
            items.append({"login": login})
        else:
            items.append(_grant(grant))
            if isinstance(grant, TableSelect) and grant.grant_on_partitions is GrantOnPartitionsMode.DIRECT_CHILDREN:
                selected = items[-1]["table_select"]
                children_of.append(
                    (role_name, selected["schema"], selected.get("table"), selected.get("table_regex"), selected["direct"])
                )
    role = {"name": role_name, "grants": items}
    if preserve_existing_grants_in_schemas:
        role["preserve_existing_grants_in_schemas"] = list(preserve_existing_grants_in_schemas)
    return json.dumps({"lock_key": lock_key, "roles": [role]}), children_of


def _sync(conn, sync, lock_key):
    with _transaction(conn):
        (version, taken, iterations, *_), = _rows(conn, sync.begin_statement())

        def plan():
            # The children of tables first, when grants reach them; then
            # the catalog, with the same text every time and the lists as
            # parameters (the driver may prepare it), the objects only
            # when needed.
            current = sync
            children = sync.children_statement()
            if children is not None:
                current = sync.with_children(_fetch(conn, *children))
            reads, params = current.catalog_statements(version)
            rows = _fetch(conn, reads[0], params)
            if len(reads) > 1 and current.needs_objects(rows):
                rows += _fetch(conn, reads[1], params)
            return current.plan(rows, iterations)

        statements, warned = plan()
        if statements and not taken:
            # Wait for the lock (the caller's lock_timeout applies), then
            # read again: another holder may have changed what was read.
            _rows(conn, f"SELECT pg_advisory_xact_lock({int(lock_key)})")
            statements, warned = plan()
        for message in warned:
            # Shown where sync_roles or drop_unused_roles was called.
            warnings.warn(message, PgsrWarning, stacklevel=3)
        if statements:
            _apply(conn, statements)


def sync_roles(conn, role_name, grants=(), preserve_existing_grants_in_schemas=(), lock_key=1):
    """Makes `role_name` hold exactly `grants`, on `conn` (a SQLAlchemy
    connection), in one transaction under `pg_advisory_xact_lock(lock_key)`."""
    desired, children_of = _desired(role_name, grants, preserve_existing_grants_in_schemas, lock_key)
    try:
        sync = Sync(desired, children_of=children_of)
    except ValueError as e:
        raise PgsrError(str(e)) from None
    _sync(conn, sync, lock_key)


def drop_unused_roles(conn, lock_key=1):
    """Drops pgsr's (and pg-sync-roles') intermediate roles that no longer
    hold anything, on `conn`, under `pg_advisory_xact_lock(lock_key)`."""
    sync = Sync(json.dumps({"lock_key": lock_key, "roles": []}), drop_unused=True)
    _sync(conn, sync, lock_key)
