"""Problems found in the seed files, each naming the file, the record and the field."""

import hashlib
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


def checksum_problem(
    raw: bytes, recorded: str | None, where: tuple[str, str], shown: str, why: str = ""
) -> SeedProblem | None:
    """The problem with a file read for the seeds (`raw`, named `shown`) whose SHA-256 is
    not the one recorded for it, at `where` (the seed file and the record); None when they
    agree. `why` ends the message."""
    digest = hashlib.sha256(raw).hexdigest()
    if digest == recorded:
        return None
    file, record = where
    message = f"{shown} has checksum {digest}, not the recorded {recorded}{why}"
    return SeedProblem(file, record, "sha256", message)


class SeedError(Exception):
    """The seeds cannot be loaded; nothing was written."""

    def __init__(self, problems: list[SeedProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))
