"""Policy as data: typed access to the YAML files in include/config/."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from salesops import paths

FIELD_TYPES = {"id", "string", "int", "decimal", "double", "bool", "date", "timestamp"}
SYSTEMS = {"crm", "map", "finance"}


class ConfigError(ValueError):
    """A policy file is missing, malformed or inconsistent."""


def load_yaml(name: str, config_dir: Path | None = None) -> dict[str, Any]:
    """Read include/config/<name> (or the same name under ``config_dir``)."""
    path = (config_dir or paths.CONFIG_DIR) / name
    if not path.exists():
        raise ConfigError(f"policy file not found: {path}")
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    return data


@dataclass(frozen=True)
class FieldSpec:
    api_name: str
    column: str
    type: str
    required: bool = False


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


def _parse_object(raw: dict[str, Any], where: str) -> ObjectSpec:
    for attr in ("name", "api_name", "system", "key", "cursor", "fields"):
        if attr not in raw:
            raise ConfigError(f"{where}: missing {attr!r}")
    if raw["system"] not in SYSTEMS:
        raise ConfigError(f"{where}: system {raw['system']!r} not one of {sorted(SYSTEMS)}")
    fields = []
    for api_name, spec in raw["fields"].items():
        ftype = spec.get("type")
        if ftype not in FIELD_TYPES:
            raise ConfigError(f"{where}.{api_name}: type {ftype!r} not one of {sorted(FIELD_TYPES)}")
        fields.append(FieldSpec(api_name, spec["column"], ftype, bool(spec.get("required", False))))
    obj = ObjectSpec(
        name=raw["name"],
        api_name=raw["api_name"],
        system=raw["system"],
        key=raw["key"],
        cursor=raw["cursor"],
        deletes=bool(raw.get("deletes", False)),
        fields=tuple(fields),
    )
    for needed in (obj.key, obj.cursor):
        obj.field(needed)  # raises if the key/cursor is not a declared field
    return obj


@lru_cache(maxsize=4)
def object_manifest(config_dir: Path | None = None) -> dict[str, ObjectSpec]:
    """All objects from objects.yaml, by name, in manifest order."""
    data = load_yaml("objects.yaml", config_dir)
    out: dict[str, ObjectSpec] = {}
    for i, raw in enumerate(data.get("objects", [])):
        obj = _parse_object(raw, f"objects.yaml objects[{i}]")
        if obj.name in out:
            raise ConfigError(f"objects.yaml: object {obj.name!r} declared twice")
        out[obj.name] = obj
    return out


def get_object(name: str) -> ObjectSpec:
    manifest = object_manifest()
    if name not in manifest:
        raise ConfigError(f"unknown object {name!r}; the manifest has {sorted(manifest)}")
    return manifest[name]


@lru_cache(maxsize=8)
def policy(name: str) -> dict[str, Any]:
    """A policy file by stem: policy('stages'), policy('hygiene'), policy('territories')..."""
    return load_yaml(f"{name}.yaml")
