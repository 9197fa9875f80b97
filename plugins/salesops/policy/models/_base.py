"""The base every policy model derives from: strict types, unknown keys rejected by name."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic_core import PydanticCustomError


class PolicyModel(BaseModel):
    """A mapping of a policy file.

    Strict: ``"5"`` is not an integer, ``1`` is not a boolean, and a misspelt key is an error (an
    overlay key that silently did nothing would be worse than a failed load). Instances are frozen.
    To add a key to a policy file, add the field to its model here first.
    """

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            known = sorted(f.alias or name for name, f in cls.model_fields.items())
            for key in data:
                if key not in known:
                    raise PydanticCustomError(
                        "unknown_key",
                        "unknown key {key!r}",
                        {"key": str(key), "known": ", ".join(known)},
                    )
        elif data is not None and not isinstance(data, BaseModel):
            raise PydanticCustomError("not_mapping", "a mapping", {"kind": type(data).__name__})
        return data


SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")


def unique(values: Sequence[object], path: str) -> None:
    """Raise :func:`bad` at the first repeated value; ``path`` is a template with ``{i}``."""
    seen: set[object] = set()
    for i, v in enumerate(values):
        if v in seen:
            raise bad(path.format(i=i), v, "a value not already used earlier in the list")
        seen.add(v)


def snake_name(value: str, what: str) -> str:
    if not SNAKE.match(value):
        raise ValueError(f"{what} in snake_case (a-z, 0-9, _; starting with a letter)")
    return value


def bad(path: str, value: Any, expected: str) -> PydanticCustomError:
    """An error for a value found below the validated model, at key path ``path`` (``a.b[2].c``).

    Raise it from a model validator so the message still reads
    ``<file>: <model path>.<path>: got <value>; expected <expected>``.
    """
    return PydanticCustomError(
        "policy_value", "{path}: {expected}", {"path": path, "value": repr(value), "expected": expected}
    )
