"""A planner overrides delivery on a file:// and an s3:// lake: every bad record quarantined with
its reason, the rest published under its as-of day, each traceable to its file and line."""

from __future__ import annotations

import io
from datetime import date

import pandas as pd
import pytest

from salescast.ingest.overrides import OverridesRejected, ingest_overrides_day, overlapping
from salescast.lake import DATA_FILE, OVERRIDES, Lake
from salescast.overrides import PUBLISHED
from salescast.publish import is_published, read_manifest
from tests.support.lakes import on_both_lakes

ASOF = date(2025, 3, 1)
HEADER = "store_id,item_id,date_from,date_to,kind,value,reason,author,expires"
OVERLAP = "overlapping overrides for one store/item in one delivery; send one"


def _drop(lake: Lake, name: str, text: str | bytes, day: date = ASOF) -> None:
    data = text.encode("utf-8") if isinstance(text, str) else text
    lake.write_bytes(lake.landing_dir(day, "overrides") / name, data)


def _quarantine(lake: Lake, day: date = ASOF) -> pd.DataFrame:
    return lake.read_parquet(lake.quarantine_file(day, "overrides"))


def _published(lake: Lake, day: date = ASOF) -> pd.DataFrame:
    return lake.read_parquet(lake.partition_dir(OVERRIDES, day) / DATA_FILE)


# long on purpose: one delivery holds every bad case beside good rows, so each reason and the
# published partition are checked together, as a planner's mixed file is
@on_both_lakes
def test_bad_overrides_are_quarantined_with_reasons_and_the_rest_published(lake):
    _drop(lake, "week10.csv", "\n".join([
        HEADER + ",channel",
        "S1,I1,2025-03-10,2025-03-16,set,120,listing change,ana,2025-03-31,web",  # channel: not in the contract
        "*,I2,2025-03-10,2025-03-12,PCT,-20,competitor promo,bo,,",                # * stores; kinds case-insensitive
        ",I3,2025-03-10,2025-03-12,add,5,why,ana,,",                               # no store_id
        "S\x071,I3,2025-03-10,2025-03-12,add,5,why,ana,,",                         # a refused id (salescast.ids)
        "S1,I4,10/03/2025,2025-03-12,add,5,why,ana,,",                             # not a YYYY-MM-DD day
        "S1,I5,2025-03-12,2025-03-10,add,5,why,ana,,",                             # date_from after date_to
        "S1,I6,2025-03-10,2025-03-12,double,5,why,ana,,",                          # an unknown kind
        "S1,I7,2025-03-10,2025-03-12,add,ten,why,ana,,",                           # not a number
        "S1,I8,2025-03-10,2025-03-12,pct,-150,why,ana,,",                          # pct below -100
        "S1,I9,2025-03-10,2025-03-12,set,-1,why,ana,,",                            # a negative set
        "S1,I10,2025-03-10,2025-03-12,add,5,  ,ana,,",                             # an empty reason
        "S1,I11,2025-03-10,2025-03-12,add,5,why,,,",                               # an empty author
        "S1,I12,2025-03-10,2025-03-12,add,5,why,ana,2025-03-01,",                  # expires before date_from
        "S1,I13,2025-03-10,2025-03-12,add,5,why,ana,soon,",                        # expires not a day
        "S2,I1,2025-03-10,2025-03-14,add,5,why,ana,,",                             # S2/I1 twice, overlapping
        "S2,I1,2025-03-14,2025-03-20,pct,10,why,bo,,",                             # ... on 03-14: both refused
        "S2,I1,2025-03-21,2025-03-22,pct,10,why,bo,,",                             # after them: publishes
        "S3,*,2025-03-10,2025-03-10,pct,-100,store closed,bo,2025-03-10,",         # -100 and expires = date_from
        "S4,I1,2025-03-10,2025-03-10,add,5,dup,ana,,",                             # an exact repeat: add once
        "S4,I1,2025-03-10,2025-03-10,add,5,dup,ana,,",                             # ... or twice? both refused
        "S5,I1,2025-03-10,2025-03-12,add,ten,why,ana,,",                           # refused, and it still
        "S5,I1,2025-03-11,2025-03-11,add,1,why,ana,,",                             # ... overlaps this one
        "S3,I1",                                                                  # a malformed record
    ]) + "\n")  # fmt: skip
    more = ["store_id;item_id;date_from;date_to;kind;value;reason;author", "S2;I1;2025-03-12;2025-03-12;add;1;again;cy"]
    _drop(lake, "more.csv", "\n".join(more) + "\n")  # a third for S2/I1, in another file
    result = ingest_overrides_day(lake, ASOF, "run-1", max_bad_fraction=0.9)

    bad = _quarantine(lake)
    where = bad["source_file"] + ":" + bad["line_number"].astype(str)
    reasons = bad.groupby(where)["reason"].agg("; ".join).to_dict()
    raw = dict(zip(where, bad["raw"], strict=True))
    assert "column 'channel' is not in the overrides contract" in reasons["week10.csv:2"]
    assert raw["week10.csv:2"] == "channel=web for store_id=S1, item_id=I1"
    assert reasons["week10.csv:4"].startswith("store_id is missing")
    assert reasons["week10.csv:5"].startswith("store_id contains a control character U+0007")
    assert reasons["week10.csv:6"] == "date_from is not a day written YYYY-MM-DD (got '10/03/2025')"
    assert reasons["week10.csv:7"].startswith("date_from is after date_to")
    assert reasons["week10.csv:8"] == "kind is none of set, add, pct (got 'double')"
    assert reasons["week10.csv:9"] == "value is not a number (got 'ten')"
    assert reasons["week10.csv:10"].startswith("a pct value below -100 (percent) would make the forecast negative")
    assert reasons["week10.csv:11"].startswith("a set value is negative")
    assert reasons["week10.csv:12"].startswith("reason is empty")
    assert reasons["week10.csv:13"].startswith("author is empty")
    assert reasons["week10.csv:14"] == "expires is before date_from: the override would never apply (got '2025-03-01')"
    assert reasons["week10.csv:15"].startswith("expires is not a day written YYYY-MM-DD (empty: the override does not")
    assert reasons["week10.csv:16"] == reasons["week10.csv:17"] == OVERLAP
    assert reasons["week10.csv:20"] == reasons["week10.csv:21"] == OVERLAP
    assert reasons["week10.csv:22"] == f"value is not a number (got 'ten'); {OVERLAP}"
    assert reasons["week10.csv:23"] == OVERLAP
    assert "malformed record" in reasons["week10.csv:24"]
    assert reasons["more.csv:2"] == OVERLAP
    assert '"value": "ten"' in raw["week10.csv:9"]  # the record as delivered
    assert set(bad["run_id"]) == {"run-1"}
    assert bad["line_number"].dtype == "int64"

    published = _published(lake)
    assert list(published.columns) == list(PUBLISHED)
    assert published["override_id"].tolist() == ["2025-03-01/week10.csv:2", "2025-03-01/week10.csv:3",
                                                  "2025-03-01/week10.csv:18", "2025-03-01/week10.csv:19"]  # fmt: skip
    assert published.iloc[0]["expires"] == date(2025, 3, 31)  # its channel cell quarantined, the row published
    first = published.iloc[1]
    assert (first["store_id"], first["item_id"], first["kind"], first["value"]) == ("*", "I2", "pct", -20.0)
    assert (first["date_from"], first["date_to"]) == (date(2025, 3, 10), date(2025, 3, 12))
    assert pd.isna(first["expires"])
    assert (first["reason"], first["author"], first["asof"]) == ("competitor promo", "bo", ASOF)
    assert published.iloc[3]["expires"] == date(2025, 3, 10)
    assert published["value"].dtype == "float64"
    assert result.published == 4
    assert result.kinds == {"pct": 3, "set": 1}
    assert result.quarantined == len(bad)
    assert result.records == 25  # 23 records in week10.csv (the malformed one included), 1 cell, 1 in more.csv
    manifest = read_manifest(lake, lake.partition_dir(OVERRIDES, ASOF))
    assert (manifest["dataset"], manifest["rows"], manifest["quarantined"]) == ("overrides", 4, 21)
    assert (lake.raw_dir(ASOF, "overrides") / "week10.csv").exists()  # the files, byte for byte
    assert not lake.staging_dir(OVERRIDES, ASOF).exists()


@on_both_lakes
def test_an_unreadable_file_or_too_many_bad_rows_rejects_the_delivery_and_keeps_the_quarantine(lake):
    rows = ["S1,I1,2025-03-10,2025-03-12,add,x,why,ana,", "S1,I2,2025-03-10,2025-03-12,add,1,w,a,"]
    _drop(lake, "a.csv", "\n".join([HEADER, *rows]) + "\n")
    _drop(lake, "b.csv", "store_id,item_id,date_from,date_to,kind,value\nS1,I1,2025-03-10,2025-03-12,add,1\n")
    with pytest.raises(OverridesRejected) as rejected:
        ingest_overrides_day(lake, ASOF, "run-1", max_bad_fraction=0.05)
    message = str(rejected.value)
    assert "unreadable file b.csv: no reason, author column: an overrides file has store_id" in message
    assert "above the 5.0% allowed" in message
    assert not lake.partition_dir(OVERRIDES, ASOF).exists()
    assert sorted(_quarantine(lake)["kind"]) == ["file", "invalid"]


def test_a_re_run_replaces_the_day_and_files_follow_the_sales_reading_rules(lake):
    """Parquet (typed dates and numbers, no expires column) and Windows-1252 with ; beside
    UTF-8; a re-run with the files fixed publishes the day anew and removes its quarantine;
    a header-only delivery publishes an empty, typed partition."""
    _drop(lake, "o.csv", f"{HEADER}\nS1,I1,2025-03-10,2025-03-12,add,x,why,ana,\n")
    ingest_overrides_day(lake, ASOF, "run-1", max_bad_fraction=1.0)
    assert len(_quarantine(lake)) == 1
    assert len(_published(lake)) == 0
    assert is_published(lake.partition_dir(OVERRIDES, ASOF))

    _drop(lake, "o.csv", f"{HEADER}\nS1,I1,2025-03-10,2025-03-12,add,2.5,why,ana,\n")
    french = "store_id;item_id;date_from;date_to;kind;value;reason;author\nS2;I1;2025-03-10;2025-03-10;set;0;Fermé;Zoé"
    _drop(lake, "fr.csv", (french + "\n").encode("cp1252"))
    row = {"store_id": "S3", "item_id": "I1", "date_from": date(2025, 3, 11), "date_to": date(2025, 3, 12),
           "kind": "pct", "value": 15.0, "reason": "event", "author": "ana"}  # fmt: skip
    buffer = io.BytesIO()
    pd.DataFrame([row]).to_parquet(buffer, index=False)
    _drop(lake, "new.parquet", buffer.getvalue())
    result = ingest_overrides_day(lake, ASOF, "run-2", max_bad_fraction=0.0)
    assert result.quarantine is None
    assert not lake.quarantine_file(ASOF, "overrides").exists()
    published = _published(lake).set_index("store_id")
    assert published.loc["S1", "value"] == 2.5
    assert published.loc["S2", ["reason", "author"]].tolist() == ["Fermé", "Zoé"]
    assert published.loc["S3", "date_from"] == date(2025, 3, 11)
    assert published["expires"].isna().all()
    assert read_manifest(lake, lake.partition_dir(OVERRIDES, ASOF))["run_id"] == "run-2"

    day = date(2025, 3, 2)
    _drop(lake, "none.csv", HEADER + "\n", day)
    assert ingest_overrides_day(lake, day, "run-3", max_bad_fraction=0.0).warnings == [
        "none.csv: no overrides records (header only)"
    ]
    empty = _published(lake, day)
    assert list(empty.columns) == list(PUBLISHED)
    assert empty.empty


def test_overlap_is_per_store_and_item_and_inclusive():
    days = pd.to_datetime(pd.Series(["2025-03-01", "2025-03-05", "2025-03-06", "2025-03-01", "2025-03-02", None]))
    ends = pd.to_datetime(pd.Series(["2025-03-04", "2025-03-05", "2025-03-09", "2025-03-31", "2025-03-02", None]))
    stores = pd.Series(["S1", "S1", "S1", "*", "*", "S1"])
    items = pd.Series(["I1", "I1", "I1", "I1", "I1", "I1"])
    assert overlapping(stores, items, days, ends).tolist() == [False, False, False, True, True, False]
    nested = pd.to_datetime(pd.Series(["2025-03-01", "2025-03-02", "2025-03-08"]))
    nested_ends = pd.to_datetime(pd.Series(["2025-03-10", "2025-03-03", "2025-03-09"]))
    three = pd.Series(["S1"] * 3)
    assert overlapping(three, three, nested, nested_ends).tolist() == [True, True, True]
