"""The tables, one module per domain; importing this package registers them all."""

from app.models.clusters import Cluster
from app.models.dataset import DatasetVersion
from app.models.indicators import Indicator
from app.models.metrics import Observation
from app.models.organizations import Organization, Relation
from app.models.places import Place, PlaceAncestor
from app.models.programs import Program, ProgramPlace
from app.models.search import SearchEntry
from app.models.sources import Source

__all__ = [
    "Cluster",
    "DatasetVersion",
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
