from sqlmodel import Field, SQLModel


class DeploymentSecret(SQLModel, table=True):
    """Keys this deployment generated for itself, by name (`cursor`: the key that signs
    pagination cursors when ATLAS_CURSOR_SECRET is not set). Kept in the database so every
    worker, process and replica reading it shares them; written by `atlas load`, read by the
    API at start."""

    __tablename__ = "deployment_secret"

    name: str = Field(primary_key=True, max_length=40)
    value: str = Field(max_length=200)
