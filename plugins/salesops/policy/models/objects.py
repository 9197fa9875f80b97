"""objects.yaml: the object manifest (source objects, their fields, keys and change cursors)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from salesops.policy.models._base import PolicyModel, bad, snake_name, unique

FieldType = Literal["id", "string", "int", "decimal", "double", "bool", "date", "timestamp"]
System = Literal["crm", "map", "finance"]


class FieldModel(PolicyModel):
    column: str
    type: FieldType
    required: bool = False
    # What a value that does not parse as ``type`` does to its record. ``quarantine`` (default):
    # the whole record stays out of staging. ``warn``: only for an optional, read-only field no
    # metric or check reads (Contact.Birthdate): the record loads with the field empty and the
    # value is kept in ops.quarantine with severity 'warning'. Never for required, key or cursor
    # fields, nor for id/string fields (they always parse).
    on_bad_value: Literal["quarantine", "warn"] = "quarantine"

    @model_validator(mode="after")
    def _warn_only_when_optional(self) -> FieldModel:
        if self.on_bad_value == "warn" and self.required:
            raise bad("on_bad_value", self.on_bad_value, "quarantine for a required field")
        if self.on_bad_value == "warn" and self.type in ("id", "string"):
            raise bad(
                "on_bad_value", self.on_bad_value, f"quarantine for a {self.type} field (it always parses)"
            )
        return self

    @field_validator("column")
    @classmethod
    def _column(cls, v: str) -> str:
        return snake_name(v, "a column name")


class ObjectModel(PolicyModel):
    name: str
    api_name: str = Field(min_length=1)
    system: System
    key: str
    cursor: str
    deletes: bool = False
    fields: dict[str, FieldModel] = Field(min_length=1)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return snake_name(v, "a table stem")

    @model_validator(mode="after")
    def _key_and_cursor_are_fields(self) -> ObjectModel:
        for what in ("key", "cursor"):
            value = getattr(self, what)
            if value not in self.fields:
                raise bad(what, value, f"one of the object's fields {sorted(self.fields)}")
            if self.fields[value].on_bad_value != "quarantine":
                raise bad(
                    f"fields.{value}.on_bad_value",
                    self.fields[value].on_bad_value,
                    f"quarantine for the {what}",
                )
        return self


class ObjectsPolicy(PolicyModel):
    """objects.yaml."""

    objects: list[ObjectModel] = Field(min_length=1)

    @field_validator("objects")
    @classmethod
    def _unique(cls, v: list[ObjectModel]) -> list[ObjectModel]:
        unique([o.name for o in v], "[{i}].name")
        unique([o.api_name for o in v], "[{i}].api_name")
        return v
