"""How well `atlas extract` finds the curated facts: python -m bench.extraction.

Ground truth is the seeds: every stated observation of each document. A candidate finds a
curated fact when its value equals it, its unit fits the fact's indicator, and its
locator overlaps the fact's. Recall is the share of curated facts found; precision the
share of candidates that found one; subject and indicator are scored over the found
facts. The vocabulary (names, indicators) comes from a private SQLite database loaded
with the same seeds, as a curator's would.
"""

import argparse
import math
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from app.config import PROJECT_ROOT
from app.db import build_engine
from app.extract.candidates import Candidate, Vocabulary, extract
from app.extract.documents import MAX_BYTES, read_document
from app.migrate import upgrade_to_head
from app.seeding.checks import check_dataset
from app.seeding.kinds import ObservationRecord
from app.seeding.loader import load_dataset
from app.seeding.quantities import COMPATIBLE_UNITS
from app.seeding.reader import Dataset, read_dataset

SEEDS = PROJECT_ROOT / "seeds"
DOCUMENTS = PROJECT_ROOT.parent / "shared" / "seeds"


@dataclass
class Score:
    truths: int = 0
    candidates: int = 0
    found: int = 0
    subject_right: int = 0
    indicator_right: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: "Score") -> None:
        self.truths += other.truths
        self.candidates += other.candidates
        self.found += other.found
        self.subject_right += other.subject_right
        self.indicator_right += other.indicator_right
        self.errors.extend(other.errors)

    def row(self, name: str) -> str:
        return (
            f"{name:<40} {self.truths:>6} {self.candidates:>6} {self.found:>6}"
            f" {_share(self.found, self.truths):>7} {_share(self.found, self.candidates):>9}"
            f" {_share(self.subject_right, self.found):>8}"
            f" {_share(self.indicator_right, self.found):>10}"
        )


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def _matches(candidate: Candidate, truth: ObservationRecord, unit: str) -> bool:
    span = truth.span
    assert span is not None
    return (
        math.isclose(float(candidate.value), float(truth.value), rel_tol=1e-9)
        and candidate.unit in COMPATIBLE_UNITS[unit]
        and candidate.start < span[1]
        and span[0] < candidate.end
    )


def score_document(
    truths: list[ObservationRecord], candidates: list[Candidate], units: dict[str, str]
) -> Score:
    score = Score(truths=len(truths), candidates=len(candidates))
    unused = list(candidates)
    for truth in truths:
        match = next((c for c in unused if _matches(c, truth, units[truth.indicator])), None)
        if match is None:
            score.errors.append(f"missed: {truth.key} ({truth.stated!r})")
            continue
        unused.remove(match)
        score.found += 1
        subject = (match.subject.kind, match.subject.slug) if match.subject else None
        if subject == (truth.subject.kind, truth.subject.slug):
            score.subject_right += 1
        else:
            score.errors.append(f"wrong subject: {truth.key} got {subject}")
        if match.indicator == truth.indicator:
            score.indicator_right += 1
        else:
            score.errors.append(f"wrong indicator: {truth.key} got {match.indicator}")
    score.errors.extend(f"spurious: {c.stated!r} at {c.locator}" for c in unused)
    return score


def evaluate(dataset: Dataset, documents: Path, vocabulary: Vocabulary) -> dict[str, Score]:
    files = {s.id: s.file for s in dataset.sources.sources if s.file}
    scores = {}
    for document in dataset.documents.values():
        truths = [o for o in document.observations if o.span is not None]
        doc = read_document(documents / files[document.source])
        scores[document.source] = score_document(truths, extract(doc, vocabulary), vocabulary.units)
    return scores


def _vocabulary(dataset: Dataset, workdir: Path) -> Vocabulary:
    url = f"sqlite:///{workdir / 'extraction.db'}"
    upgrade_to_head(url)
    engine = build_engine(url)
    try:
        load_dataset(engine, dataset)
        return Vocabulary.from_database(engine)
    finally:
        engine.dispose()


# Hostile inputs just under the 5 MB limit: what made extraction quadratic (one sentence of
# amounts, each rescanning it), and its neighbours: many short sentences, a sentence with
# no clause marks, amounts written as words, one huge paragraph of periods.
ADVERSARIAL_BYTES = MAX_BYTES - 64
ADVERSARIAL = {
    "one sentence of amounts": ("Hefei had ", "1,"),
    "short sentences": ("", "Hefei had 1. "),
    "no clause marks": ("Hefei had ", "12 billion yuan and "),
    "amounts in words": ("Hefei had ", "nine "),
    "dates and percents": ("In 2023 Hefei grew ", "3.5% in March 2024 and "),
}


def adversarial(vocabulary: Vocabulary, workdir: Path) -> list[tuple[str, int, float]]:
    """Seconds to read and extract each hostile input: (name, candidates, seconds)."""
    results = []
    for name, (head, unit) in ADVERSARIAL.items():
        path = workdir / "hostile.txt"
        repeats = (ADVERSARIAL_BYTES - len(head)) // len(unit.encode())
        path.write_text(head + unit * repeats, encoding="utf-8")
        started = time.perf_counter()
        found = extract(read_document(path), vocabulary)
        results.append((name, len(found), time.perf_counter() - started))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=Path, default=SEEDS)
    parser.add_argument("--documents", type=Path, default=DOCUMENTS)
    parser.add_argument("--errors", action="store_true", help="List every error.")
    parser.add_argument(
        "--adversarial", action="store_true", help="Time 5 MB hostile inputs instead."
    )
    args = parser.parse_args(argv)
    if args.adversarial:
        with tempfile.TemporaryDirectory() as workdir:
            vocabulary = _vocabulary(read_dataset(args.seeds), Path(workdir))
            print(f"{'5 MB input':<28} {'candidates':>10} {'seconds':>8}")
            for name, count, seconds in adversarial(vocabulary, Path(workdir)):
                print(f"{name:<28} {count:>10} {seconds:>8.1f}")
        return 0
    dataset = read_dataset(args.seeds)
    check_dataset(dataset, args.documents)
    with tempfile.TemporaryDirectory() as workdir:
        scores = evaluate(dataset, args.documents, _vocabulary(dataset, Path(workdir)))
    header = (
        f"{'document':<40} {'facts':>6} {'cands':>6} {'found':>6} {'recall':>7}"
        f" {'precision':>9} {'subject':>8} {'indicator':>10}"
    )
    print(header)
    overall = Score()
    for name, score in scores.items():
        print(score.row(name))
        overall.add(score)
    print(overall.row("overall"))
    kinds = Counter(error.split(":", 1)[0] for error in overall.errors)
    print("errors by kind: " + (", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) or "none"))
    if args.errors:
        for name, score in scores.items():
            for error in score.errors:
                print(f"  {name}: {error}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
