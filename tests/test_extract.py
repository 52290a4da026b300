"""`atlas extract`: the parsers as tables, bad input, the draft against the loader's own
checks, and the command as a real process."""

import json
import os
import shutil
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from app.config import PROJECT_ROOT
from app.db import build_engine
from app.extract.candidates import Vocabulary, extract
from app.extract.documents import MAX_BYTES, DocumentError, parse_document, read_document
from app.extract.periods import date_amount
from app.extract.quantities import find_amounts
from app.models.vocabulary import Qualifier
from app.seeding.checks import check_dataset
from app.seeding.reader import read_dataset
from tests.conftest import DOCUMENTS, SEEDS

ARTICLE = PROJECT_ROOT / "tests" / "data" / "extract-article.html"

AMOUNTS: list[tuple[str, list[tuple[str, Decimal, str | None, Qualifier]]]] = [
    ("Hunan accounts for over 20 percent of it", [
        ("20 percent", Decimal(20), "percent", Qualifier.more_than)]),
    ("revenue of 137.8 billion rmb in 2021", [
        ("137.8 billion rmb", Decimal("137800000000"), "CNY", Qualifier.exact)]),
    ("signed nine investment projects", [("nine", Decimal(9), None, Qualifier.exact)]),
    ("a grant of no more than 300 million RMB", [
        ("300 million RMB", Decimal(300_000_000), "CNY", Qualifier.up_to)]),
    ("up to 300 million yuan", [
        ("300 million yuan", Decimal(300_000_000), "CNY", Qualifier.up_to)]),
    ("select about three leading sectors", [
        ("three", Decimal(3), None, Qualifier.approximate)]),
    ("at least one major project", [("one", Decimal(1), None, Qualifier.at_least)]),
    ("up 1.1 percentage points", [
        ("1.1 percentage points", Decimal("1.1"), "percentage_point", Qualifier.exact)]),
    ("the district has built 4,889 5g base stations", [
        ("4,889", Decimal(4889), None, Qualifier.exact)]),
    ("That growth rate ranked it second in the province", [
        ("second", Decimal(2), "ordinal", Qualifier.exact)]),
    ("more than 20 million yuan ($2.77 million)", [
        ("20 million yuan", Decimal(20_000_000), "CNY", Qualifier.more_than)]),
    # Not amounts: years, dates, times, durations, names with digits, pronoun "one".
    ("by 2023, in 2021 and in the 2024 action plan", []),
    ("on June 25, 2025 at 14:51:52", []),
    ("exceeding 30 percent for five consecutive years", [
        ("30 percent", Decimal(30), "percent", Qualifier.more_than)]),
    ("a philosopher who lived 1,000 years ago", []),
    ("in the first three quarters, revenue rose 15% to $3.2 billion", [
        ("15%", Decimal(15), "percent", Qualifier.exact),
        ("$3.2 billion", Decimal(3_200_000_000), "USD", Qualifier.exact)]),
    ("one of the largest industries; COVID-19 and the 31st fair", []),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), AMOUNTS, ids=[t for t, _ in AMOUNTS])
def test_amounts(text: str, expected: list[tuple[str, Decimal, str | None, Qualifier]]) -> None:
    found = [(a.stated, a.value, a.unit, a.qualifier) for a in find_amounts(text)]
    assert found == expected


PERIODS: list[tuple[str, date | None, str | None, str | None]] = [
    # sentence, publication date, period label, words expected in the ambiguity
    ("by 2023, Daye had 333 high-tech enterprises", date(2024, 3, 25), "2023", None),
    ("it surpassed 310 billion yuan last year", date(2019, 8, 5), "2018", "Last year"),
    ("it reached 2.19 billion yuan last year", None, None, "undated"),
    ("they signed nine projects in April", date(2019, 8, 5), "2019-04", "April"),
    ("they signed nine projects in October", date(2019, 8, 5), "2018-10", "October"),
    ("presently, the district has built 4,889", date(2022, 12, 29), "2022-12-29", "publication"),
    ("revenue of 137.8 billion, growth over 30 percent for five consecutive years in 2021",
     date(2022, 12, 29), "2021", None),
]  # fmt: skip


@pytest.mark.parametrize(("sentence", "published", "label", "words"), PERIODS)
def test_periods(
    sentence: str, published: date | None, label: str | None, words: str | None
) -> None:
    position = next((i for i, c in enumerate(sentence) if c.isdigit()), 0)
    dating = date_amount(sentence, position, published)
    assert dating is not None
    assert dating.label == label
    if words is None:
        assert dating.ambiguity is None
    else:
        assert dating.ambiguity is not None
        assert words in dating.ambiguity


def test_consecutive_years_date_only_their_own_clause() -> None:
    sentence = "revenue of 137.8 billion in 2021, growth over 30 percent for five consecutive years"
    dating = date_amount(sentence, sentence.index("30 percent"), date(2022, 12, 29))
    assert dating is not None
    assert dating.label == "2017/2021"
    assert dating.ambiguity is not None
    assert "five consecutive years" in dating.ambiguity


def test_a_year_of_comparison_is_not_the_period() -> None:
    assert date_amount("up 1.1 percentage points compared with 2017", 3, date(2019, 8, 5)) is None


# Bad input ------------------------------------------------------------------------------


def test_binary_is_refused() -> None:
    with pytest.raises(DocumentError, match="binary"):
        parse_document("x.pdf", b"%PDF-1.7\x00\x01\x02 stream")


def test_invalid_utf8_is_refused_with_its_offset() -> None:
    with pytest.raises(DocumentError, match="invalid byte 0xff at offset 6"):
        parse_document("x.txt", b"Daye, \xff had 333")


def test_a_file_over_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    with big.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # sparse: 50 MB without writing them
    assert big.stat().st_size > MAX_BYTES
    with pytest.raises(DocumentError, match=r"50\.0 MB; an article is at most 5 MB"):
        read_document(big)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="cannot read"):
        read_document(tmp_path / "absent.txt")


def test_empty_and_script_only_documents_give_no_candidates(loaded_url: str) -> None:
    vocabulary = _vocabulary(loaded_url)
    scripts = ("<html><head><script>var a = 12345; var b = 'over 20 percent';</script></head>"
               "<body><script>for (var i = 0; i < 300; i++) {}</script></body></html>")  # fmt: skip
    for raw in (b"", b"   \n\n", scripts.encode()):
        document = parse_document("x.html", raw)
        assert extract(document, vocabulary) == []


# What it finds --------------------------------------------------------------------------


def _vocabulary(url: str) -> Vocabulary:
    engine = build_engine(url)
    try:
        return Vocabulary.from_database(engine)
    finally:
        engine.dispose()


def test_html_chrome_and_scripts_are_stripped_and_facts_found(loaded_url: str) -> None:
    document = read_document(ARTICLE)
    assert document.is_html
    assert document.published_on == date(2023, 6, 12)
    assert "Top News" not in document.text
    assert "counter" not in document.text
    found = {
        (c.stated, c.qualifier.value, c.period.label): c
        for c in extract(document, _vocabulary(loaded_url))
    }
    assert set(found) == {
        ("412", "exact", "2022"),
        ("356.4 billion yuan", "exact", "2022"),
        ("11 percent", "approximate", "2022"),
        ("30", "up_to", "2023-06-12"),
        ("50 million yuan", "up_to", "2023-06-12"),
        ("seven", "exact", "2023-03"),
        ("three", "exact", "1998"),
    }
    assert found[("412", "exact", "2022")].subject is not None
    assert found[("412", "exact", "2022")].subject.slug == "wuxi"
    for candidate in found.values():
        assert document.text[candidate.start : candidate.end] == candidate.quote
        assert candidate.stated in candidate.quote


@pytest.mark.documents
def test_seed_documents_reach_the_targets(loaded_url: str) -> None:
    """The figures `python -m bench.extraction` prints, held to the issue's floor."""
    from bench.extraction import evaluate

    scores = evaluate(read_dataset(SEEDS), DOCUMENTS, _vocabulary(loaded_url))
    truths = sum(s.truths for s in scores.values())
    found = sum(s.found for s in scores.values())
    candidates = sum(s.candidates for s in scores.values())
    subject_right = sum(s.subject_right for s in scores.values())
    assert found / truths >= 0.9
    assert found / candidates >= 0.7
    assert subject_right / found >= 0.8


# The command ----------------------------------------------------------------------------


def _atlas(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "extract", *args],
        env={**os.environ, "DATABASE_URL": url}, cwd=PROJECT_ROOT,
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.documents
def test_cli_json_lines(loaded_url: str) -> None:
    result = _atlas(loaded_url, "--json", str(DOCUMENTS / "000_01c1e0c2cfe8ac55.txt"))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert {
        "value", "unit", "stated", "qualifier", "locator", "subject", "indicator", "period",
        "confidence",
    } <= set(lines[0])  # fmt: skip
    first = next(line for line in lines if line["stated"] == "333")
    assert first["subject"] == {"place": "daye"}
    assert first["period"] == "2023"
    text = (DOCUMENTS / "000_01c1e0c2cfe8ac55.txt").read_text(encoding="utf-8")
    start, end = (int(n) for n in first["locator"].removeprefix("char=").split(","))
    assert "333" in text[start:end]


def test_cli_refuses_bad_input_in_one_line(loaded_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"caf\xe9 over 20 percent")
    result = _atlas(loaded_url, "--json", str(bad))
    assert result.returncode == 2
    assert result.stdout == ""
    assert "not UTF-8 text" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.documents
def test_cli_draft_passes_the_loaders_checks(loaded_url: str, tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    documents = tmp_path / "documents"
    shutil.copytree(DOCUMENTS, documents)
    result = _atlas(loaded_url, str(ARTICLE), "--out", str(seeds), "--text-dir", str(documents))
    assert result.returncode == 0, result.stderr
    draft = next((seeds / "documents").glob("draft-2023-06-12-*.yaml"))
    assert "356.4 billion yuan" in draft.read_text(encoding="utf-8")
    dataset = read_dataset(seeds)
    verification = check_dataset(dataset, documents)  # raises if any check fails
    assert verification.documents == 6
    again = _atlas(loaded_url, str(ARTICLE), "--out", str(seeds), "--text-dir", str(documents))
    assert again.returncode == 1
    assert "exists" in again.stderr
