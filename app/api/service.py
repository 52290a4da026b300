"""The service's own documents: health, readiness and the index of resources."""

from typing import Literal

from pydantic import Field

from .resource import Tag
from .shapes import Schema


class Index(Schema):
    name: str = Field(examples=["Innovation Atlas"])
    version: str
    resources: dict[str, str] = Field(
        description="Each collection's URL.", examples=[{"cities": "/api/v1/cities"}]
    )
    download: str | None = Field(
        description="The files of the release this server serves (null before any load).",
        examples=[
            "/api/v1/releases/63ec60bb23e51794be1faf655c6f5627bf86832f0ef60b75682da11ece55d1e3/download"
        ],
    )
    docs: str
    redoc: str
    openapi: str


class Health(Schema):
    status: Literal["ok"]


class NodeState(Schema):
    """A database this worker reads from, as its last background check found it."""

    name: str = Field(description="`primary`, or `replica-1`, `replica-2`, ...")
    role: Literal["primary", "replica"]
    reachable: bool = Field(description="Whether the last check or read reached it.")
    fit: bool = Field(
        description="Whether reads go to it (the primary serves when no replica is fit)."
    )
    dataset_version: str | None = Field(description="The dataset version it holds.")
    lag_ms: int | None = Field(description="Replay lag behind the primary (replicas).")
    busy: int = Field(ge=0, description="Requests reading from it now, in this worker.")
    problem: str | None = Field(description="Why it is not fit, when it is not.")


class Readiness(Schema):
    status: Literal["ready"]
    schema_: str = Field(alias="schema", description="The database's schema revision.")
    sources: int = Field(ge=0)
    nodes: list[NodeState] = Field(description="The databases reads may go to.")


SERVICE_TAG = Tag("service", "Health and index.")
