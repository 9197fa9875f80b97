"""Policy as data: the object manifest and dict-style access to include/config/.

Thin adapters over :mod:`salesops.policy`, which reads, overlays and validates every file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from salesops import policy as _policy
from salesops.policy.errors import ConfigError

FIELD_TYPES = {"id", "string", "int", "decimal", "double", "bool", "date", "timestamp"}
SYSTEMS = {"crm", "map", "finance"}

__all__ = ["ConfigError", "FieldSpec", "ObjectSpec", "get_object", "load_yaml", "object_manifest", "policy"]


def load_yaml(name: str, config_dir: Path | None = None) -> dict[str, Any]:
    """The validated mapping of include/config/<name> with the overlay laid over it.

    Args:
        name: ``"stages.yaml"``, ``"sources/hubspot.yaml"``...
        config_dir: an overlay folder to use instead of ``SALESOPS_CONFIG_DIR`` (tests).
    """
    return _policy.raw(name, config_dir if config_dir is not None else True)


@dataclass(frozen=True)
class FieldSpec:
    api_name: str
    column: str
    type: str
    required: bool = False
    # objects.yaml on_bad_value: "quarantine" (a value that does not parse keeps the record out of
    # staging) or "warn" (the record loads with this field empty; a warning row in ops.quarantine)
    on_bad_value: str = "quarantine"


@dataclass(frozen=True)
class ObjectSpec:
    """One source object as the manifest describes it."""

    name: str
    api_name: str
    system: str
    key: str
    cursor: str
    deletes: bool
    fields: tuple[FieldSpec, ...] = field(default_factory=tuple)

    @property
    def raw_table(self) -> str:
        return f"raw.{self.system}__{self.name}"

    @property
    def staging_table(self) -> str:
        return f"staging.stg_{self.system}__{self.name}"

    @property
    def api_fields(self) -> list[str]:
        return [f.api_name for f in self.fields]

    def field(self, api_name: str) -> FieldSpec:
        for f in self.fields:
            if f.api_name == api_name:
                return f
        raise KeyError(f"{self.api_name} has no field {api_name!r}")

    @property
    def key_column(self) -> str:
        return self.field(self.key).column

    @property
    def cursor_column(self) -> str:
        return self.field(self.cursor).column


@lru_cache(maxsize=4)
def object_manifest(config_dir: Path | None = None) -> dict[str, ObjectSpec]:
    """All objects from objects.yaml (validated by :mod:`salesops.policy`), by name, in manifest order."""
    model = _policy.objects(config_dir if config_dir is not None else True)
    return {
        o.name: ObjectSpec(
            name=o.name,
            api_name=o.api_name,
            system=o.system,
            key=o.key,
            cursor=o.cursor,
            deletes=o.deletes,
            fields=tuple(
                FieldSpec(api, f.column, f.type, f.required, f.on_bad_value) for api, f in o.fields.items()
            ),
        )
        for o in model.objects
    }


_policy.on_reset(object_manifest.cache_clear)


def get_object(name: str) -> ObjectSpec:
    manifest = object_manifest()
    if name not in manifest:
        raise ConfigError(f"unknown object {name!r}; the manifest has {sorted(manifest)}")
    return manifest[name]


def policy(name: str) -> dict[str, Any]:
    """A policy file by stem, validated and overlaid: policy('stages'), policy('hygiene')...

    The mapping is shared (cached by :mod:`salesops.policy`): read it, never modify it.
    """
    return _policy.raw(name)
