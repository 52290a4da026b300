from sqlmodel import Field, SQLModel


class DatasetVersion(SQLModel, table=True):
    """Which dataset the database holds: a content hash of the seeds the loader wrote (one
    row). Served in every response's `X-Atlas-Dataset-Version` header and cited with it."""

    __tablename__ = "dataset_version"

    id: int | None = Field(default=None, primary_key=True)
    version: str = Field(max_length=64)
