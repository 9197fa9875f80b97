"""Schema names in SQL text: the project's names -> the warehouse's (Snowflake ``schema_prefix``).

The SQL in include/sql (and the few inline statements) names the project's schemas literally:
``raw.crm__lead``, ``create schema if not exists ops``. A Snowflake connection may set
``schema_prefix`` so that several environments share one database (``DEV_RAW``, ``CI_RAW``, ...).
Rather than template every schema reference in every file (hundreds, and one forgotten reference
would write into another environment's schema), :class:`salesops.warehouse.core.Warehouse`
rewrites each statement its engine runs, here, with sqlglot's tokenizer (not a text replace):

- a schema name that qualifies a table or stage (``raw.x``, ``@raw.stage``) and is not itself
  qualified (``db.raw.x`` is left alone);
- the name after ``SCHEMA`` (``create schema if not exists raw``, ``use schema ops``,
  ``... in schema raw``).

String literals, quoted identifiers, comments and column references (``s.id``) are untouched.
A statement the tokenizer cannot read is an error, never run unrewritten.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from salesops.warehouse.core import WarehouseError

_SKIP_AFTER_SCHEMA = {"if", "not", "exists"}


def rewrite_schemas(statement: str, names: Mapping[str, str]) -> str:
    """``statement`` with every reference to a project schema renamed by ``names``."""
    if all(k == v for k, v in names.items()):
        return statement
    return _rewrite(statement, tuple(sorted(names.items())))


@lru_cache(maxsize=8192)
def _rewrite(statement: str, names: tuple[tuple[str, str], ...]) -> str:
    import sqlglot
    from sqlglot.tokens import TokenType

    mapping = dict(names)
    try:
        tokens = sqlglot.tokenize(statement, read="snowflake")
    except Exception as exc:  # sqlglot.errors.TokenError
        raise WarehouseError(
            f"cannot apply the schema prefix to this statement ({exc}): {statement[:200]}"
        ) from exc
    edits: list[tuple[int, int, str]] = []
    after_schema = False
    for i, tok in enumerate(tokens):
        if tok.token_type == TokenType.SCHEMA:
            after_schema = True
            continue
        name = tok.text.lower()
        if after_schema and name in _SKIP_AFTER_SCHEMA:
            continue
        is_name = tok.token_type == TokenType.VAR or (
            tok.token_type != TokenType.IDENTIFIER and tok.text.isidentifier() and name in mapping
        )
        if is_name and name in mapping:
            prev = tokens[i - 1] if i else None
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            qualifies = nxt is not None and nxt.token_type == TokenType.DOT
            qualified = prev is not None and prev.token_type in (TokenType.DOT, TokenType.COLON)
            if after_schema or (qualifies and not qualified):
                edits.append((tok.start, tok.end + 1, mapping[name]))
        after_schema = False
    out = statement
    for start, end, new in reversed(edits):
        out = out[:start] + new + out[end:]
    return out
