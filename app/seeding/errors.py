"""Problems found in the seed files, each naming the file, the record and the field."""

from dataclasses import dataclass


@dataclass(frozen=True)
class SeedProblem:
    file: str
    record: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.record is not None:
            where += f": record {self.record}"
        if self.field is not None:
            where += f": field '{self.field}'"
        return f"{where}: {self.message}"


class SeedError(Exception):
    """The seeds cannot be loaded; nothing was written."""

    def __init__(self, problems: list[SeedProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))
