"""The one error type for bad policy, and how a pydantic failure becomes one readable message."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError


class ConfigError(ValueError):
    """A policy file is missing, malformed or inconsistent.

    The message names the file, the key path, the value found and what was expected.
    """


def key_path(loc: Sequence[str | int]) -> str:
    """``('packs', 'dq', 'audiences', 0, 'scope')`` -> ``packs.dq.audiences[0].scope``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _expected(err: Any) -> str:
    """What pydantic wanted, in words ("Input should be ..." -> "expected ...")."""
    kind = err["type"]
    msg = str(err["msg"])
    if kind == "missing":
        return "a value (this key is required)"
    if kind == "extra_forbidden":
        return "no such key"
    if kind == "unknown_key":
        return f"one of the known keys: {err['ctx']['known']}"
    if kind == "not_mapping":
        return "a mapping of keys to values"
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    if kind == "assertion_error":
        return msg.removeprefix("Assertion failed, ")
    return msg.removeprefix("Input should be ")


def _clean_loc(loc: Sequence[str | int]) -> list[str | int]:
    # pydantic adds the union member / function name to the location ("function-after[...]",
    # "list[str]", "str"): not part of the YAML key path.
    return [p for p in loc if isinstance(p, int) or ("[" not in p and p not in {"str", "int", "float"})]


def parse_path(text: str) -> list[str | int]:
    """``"a.b[2].c"`` -> ``["a", "b", 2, "c"]`` (the inverse of :func:`key_path`)."""
    out: list[str | int] = []
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", text):
        out.append(int(part[1:-1]) if part.startswith("[") else part)
    return out


def _problem(err: Any) -> tuple[list[str | int], str, str]:
    """(key path, what was found, what was expected) of one pydantic error."""
    loc = _clean_loc(err["loc"])
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return loc, "nothing", "a value (this key is required)"
    if kind == "extra_forbidden":
        return loc, f"unknown key {loc[-1]!r}" if loc else "an unknown key", "no such key"
    if kind == "unknown_key":
        return [*loc, ctx["key"]], f"unknown key {ctx['key']!r}", f"one of the known keys: {ctx['known']}"
    if kind == "not_mapping":
        return loc, f"a {ctx['kind']}", "a mapping of keys to values"
    if kind == "policy_value":
        return [*loc, *parse_path(ctx["path"])], ctx["value"], ctx["expected"]
    inp = err.get("input")
    got = f"a mapping ({len(inp)} keys)" if isinstance(inp, dict) else repr(inp)
    if len(got) > 120:
        got = got[:117] + "..."
    return loc, got, _expected(err)


def describe(
    exc: ValidationError,
    file: str,
    where: Callable[[Sequence[str | int]], str] | None = None,
    limit: int = 5,
) -> str:
    """One message for a failed validation: ``<file>: <key path>: got <value>; expected <what>``.

    Args:
        exc: the pydantic error.
        file: the policy file name (``stages.yaml``).
        where: maps a key path to the file that set it (base file or overlay), when known.
        limit: at most this many problems are listed (the rest are counted).
    """
    lines = []
    errors = exc.errors(include_url=False)
    for err in errors[:limit]:
        loc, got, expected = _problem(err)
        source = where(loc) if where else file
        lines.append(f"{source}: {key_path(loc)}: got {got}; expected {expected}")
    if len(errors) > limit:
        lines.append(f"... and {len(errors) - limit} more problem(s) in {file}")
    return "\n".join(lines)
