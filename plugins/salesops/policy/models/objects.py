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
