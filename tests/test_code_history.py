"""How the history of the division codes places a former code today (app.seeding.history),
on rows written the way the history writes them."""

import hashlib
from pathlib import Path

import pytest

from app.models.vocabulary import CodeChange
from app.seeding.history import HISTORY_FILE, CodeHistory, code_row, history_rows, read_history

HEADER = "代码,一级行政区,二级行政区,名称,级别,状态,启用时间,变更/弃用时间,新代码"


def history(*lines: str) -> CodeHistory:
    return CodeHistory([code_row(n, line.split(",")) for n, line in enumerate(lines, start=2)])


def fate(found: CodeHistory, code: str, until: int) -> tuple[set[str], CodeChange] | None:
    row = next(r for r in found.rows if r.code == code and r.valid_to == until)
    result = found.fate(row)
    return None if result is None else (set(result.codes), result.change)


def test_a_county_made_a_district_is_the_same_division() -> None:
    found = history(
        "361121,江西省,上饶市,上饶县,县级,弃用,2000,2019,361104",
        "361104,江西省,上饶市,广信区,县级,在用,2019,,",
    )
    assert fate(found, "361121", 2019) == ({"361104"}, CodeChange.recoded)


def test_two_counties_under_one_new_code_are_merged() -> None:
    found = history(
        "320602,江苏省,南通市,崇川区,县级,弃用,1991,2020,320613",
        "320611,江苏省,南通市,港闸区,县级,弃用,1991,2020,320613",
        "320613,江苏省,南通市,崇川区,县级,在用,2020,,",
    )
    assert fate(found, "320602", 2020) == ({"320613"}, CodeChange.merged)
    assert fate(found, "320611", 2020) == ({"320613"}, CodeChange.merged)


def test_a_division_taken_into_one_that_goes_on_is_merged() -> None:
    found = history(
        "110103,北京市,直辖,崇文区,县级,弃用,1981,2010,110101",
        "110101,北京市,直辖,东城区,县级,在用,1981,,",
    )
    assert fate(found, "110103", 2010) == ({"110101"}, CodeChange.merged)


def test_a_code_kept_by_a_merger_is_merged() -> None:
    found = history(
        "500110,重庆市,直辖,万盛区,县级,变更,1997,2011,500110",
        "500222,重庆市,直辖,綦江县,县级,弃用,1997,2011,500110",
        "500110,重庆市,直辖,綦江区,县级,在用,2011,,",
    )
    assert fate(found, "500110", 2011) == ({"500110"}, CodeChange.merged)
    assert fate(found, "500222", 2011) == ({"500110"}, CodeChange.merged)


def test_a_split_and_a_chain_are_followed_to_today() -> None:
    found = history(
        "130103,河北省,石家庄市,桥东区,县级,弃用,1983,2014,130102;130104",
        "130102,河北省,石家庄市,长安区,县级,在用,1983,,",
        "130104,河北省,石家庄市,桥西区,县级,在用,1983,,",
        "320611,江苏省,南通市,郊区,县级,变更,1983,1991,320611",
        "320611,江苏省,南通市,港闸区,县级,弃用,1991,2020,320613",
        "320602,江苏省,南通市,崇川区,县级,弃用,1991,2020,320613",
        "320613,江苏省,南通市,崇川区,县级,在用,2020,,",
    )
    assert fate(found, "130103", 2014) == ({"130102", "130104"}, CodeChange.split_among)
    # 郊区 became 港闸区 under its code in 1991, which was merged in 2020
    assert fate(found, "320611", 1991) == ({"320613"}, CodeChange.merged)


def test_a_split_whose_parts_end_in_one_place_is_merged_into_it() -> None:
    found = history(
        "320702,江苏省,连云港市,新海区,县级,弃用,1983,1986,320703;320704",
        "320703,江苏省,连云港市,连云区,县级,弃用,1983,1990,320706",
        "320704,江苏省,连云港市,云台区,县级,弃用,1983,1990,320706",
        "320706,江苏省,连云港市,海州区,县级,在用,1990,,",
    )
    assert fate(found, "320702", 1986) == ({"320706"}, CodeChange.merged)


def test_transfers_are_not_a_fate_and_a_missing_one_is_none() -> None:
    found = history(
        "130124,河北省,石家庄市,栾城县,县级,弃用,1986,2014,130108[2001];130111",
        "130108,河北省,石家庄市,裕华区,县级,在用,2001,,",
        "130111,河北省,石家庄市,栾城区,县级,在用,2014,,",
        "132100,河北省,邯郸地区,邯郸地区,地级,弃用,1981,1993,",
        "999901,某省,某市,甲县,县级,弃用,1981,1990,999902",
        "999902,某省,某市,乙县,县级,弃用,1990,1991,999901",
    )
    assert fate(found, "130124", 2014) == ({"130111"}, CodeChange.recoded)
    assert fate(found, "132100", 1993) is None  # no successor given
    assert fate(found, "999901", 1990) is None  # leads to no row in use


def test_rows_name_each_place_and_skip_a_place_s_own_code() -> None:
    found = history(
        "130103,河北省,石家庄市,桥东区,县级,弃用,1983,2014,130102;130104",
        "421081,湖北省,荆沙市,石首市,县级,变更,1994,1996,421081",
        "130102,河北省,石家庄市,长安区,县级,在用,1983,,",
        "130104,河北省,石家庄市,桥西区,县级,在用,1983,,",
        "421081,湖北省,荆州市,石首市,县级,在用,1996,,",
    )
    rows = list(history_rows(found, {"130102": 1, "421081": 3}))  # no place for 130104
    assert [(r["place_id"], r["code"], r["change"], r["locator_row"]) for r in rows] == [
        (1, "130103", "split", 2)
    ]
    assert (rows[0]["valid_from"], rows[0]["valid_to"], rows[0]["year"]) == (1983, 2014, 2013)


@pytest.mark.parametrize(
    ("line", "problem"),
    [("1301,河北省,石家庄市,桥东区,县级,弃用,1983,2014,130102", "not six digits"),
     ("130103,河北省,石家庄市,桥东区,县级,弃用,1983,later,130102", "invalid literal")],
)  # fmt: skip
def test_a_bad_row_is_named(tmp_path: Path, line: str, problem: str) -> None:
    path = tmp_path / HISTORY_FILE
    path.parent.mkdir()
    raw = f"{HEADER}\n{line}\n".encode()
    path.write_bytes(raw)
    found, problems = read_history(tmp_path, hashlib.sha256(raw).hexdigest(), "sources.yaml")
    assert found is not None
    assert found.rows == []
    assert [(p.file, p.record) for p in problems] == [(HISTORY_FILE, "row 2")]
    assert problem in problems[0].message
