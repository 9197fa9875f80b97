"""Render the SQL files in include/sql/ (Jinja for identifiers and switches, bind params for values)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from salesops import paths


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(paths.SQL_DIR)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # SQL, not HTML: identifiers are validated before they get here
    )


def render(relpath: str, **context: Any) -> str:
    """Render include/sql/<relpath> with ``context`` (e.g. ``render("load/merge_staging.sql", obj=spec)``)."""
    return _env().get_template(relpath).render(**context)


def sql_path(relpath: str) -> Path:
    return paths.SQL_DIR / relpath
