"""The tables, one module per domain; importing this package registers them all.

The naming convention is set here, before any table module is imported (importing one
imports this package first), so every constraint has the same name whatever is imported
first: Alembic's batch mode and `atlas synth` drop constraints by name.
"""

from sqlmodel import SQLModel

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# ruff: noqa: E402  (the convention must precede the tables)

from app.models.clusters import Cluster
from app.models.dataset import DatasetVersion
from app.models.indicators import Indicator
from app.models.metrics import Observation
from app.models.organizations import Organization, Relation
from app.models.places import FormerCode, Place, PlaceAncestor
from app.models.programs import Program, ProgramPlace
from app.models.search import SearchEntry
from app.models.secrets import DeploymentSecret
from app.models.sources import Source

__all__ = [
    "Cluster",
    "DatasetVersion",
    "DeploymentSecret",
    "FormerCode",
    "Indicator",
    "Observation",
    "Organization",
    "Place",
    "PlaceAncestor",
    "Program",
    "ProgramPlace",
    "Relation",
    "SearchEntry",
    "Source",
]
