"""Path keys: the one rule for a key in a path, the row it names (or the one 404), and how
the key is documented, for detail, nested list and nested view routes alike."""

import re
from typing import Any

from sqlalchemy import Connection, select

from app.api.resource import SLUG_PATTERN, Found, PathKey, Resource
from app.errors import ProblemError, parameter_problem
from app.query.statements import fetch_one, slot

SLUG_PATTERN_RE = re.compile(SLUG_PATTERN)


def key_doc(resource: Resource) -> str:
    key = resource.path_key
    alias = f", or its {key.alias}" if key.alias else ""
    return f"The {resource.noun}'s {key.column}{alias}."


def check_path_key(key: PathKey, value: str, name: str) -> str:
    """The one rule for a key in a path, with the one message for every route that takes it."""
    if len(value) > key.max_length or SLUG_PATTERN_RE.match(value) is None:
        raise parameter_problem(
            name,
            f"expected lower-case letters, digits, - or _ (at most {key.max_length})",
            location="path",
        )
    return value


def find(connection: Connection, resource: Resource, value: str) -> Found:
    """The row a path key names (by its key or its alias), or a 404."""
    key = resource.path_key
    by_alias = key.alias is not None and re.fullmatch(key.alias_pattern or "", value) is not None
    column = resource.table.c[key.alias if by_alias and key.alias else key.column]

    def build() -> Any:
        return (
            select(resource.table.c.id, resource.table.c[key.column].label("key"))
            .where(column == slot("key"), *resource.spec.scope)
            .limit(1)
        )

    row = fetch_one(connection, ("find", resource.name, by_alias), build, {"key": value})
    if row is None:
        raise ProblemError(404, "not-found", f"no {resource.noun} {value!r}")
    return Found(row["id"], row["key"])


def path_parameter_doc(key: PathKey, name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", "pattern": SLUG_PATTERN, "maxLength": key.max_length},
        "example": key.example,
    }
