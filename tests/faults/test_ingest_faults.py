"""Bad landing input, on a file:// lake and an s3:// lake (moto_server): nothing is lost.

For every input record of every case: it is published (summed into its daily row) or
quarantined with a reason, never both and never neither; money and units are never swapped;
re-running the day changes nothing (same curated bytes, the same rows in the one quarantine
file, no new raw copy). The cases are those of tests/unit/ingest/test_bad_inputs.py, run through
``salescast.ingest.pipeline.ingest_day`` as the CLI and the tasks do.
"""

from __future__ import annotations

import gzip
import hashlib
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from salescast.ingest.pipeline import QUARANTINE_FILE, DayRejected, IngestResult, ingest_day
from salescast.lake import SUCCESS_MARKER, Lake
from salescast.publish import DATA_FILE

DAY = date(2025, 3, 3)
HEADER = "date,store_id,item_id,units,revenue\n"
POS_HEADER = "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n"


@dataclass(frozen=True)
class Record:
    """One input record: where it is, and what it must add to its daily row if published."""

    file: str
    line: int
    store: str
    item: str
    units: float
    revenue: float | None
    bad: bool = False  # must end in quarantine (an unreadable file's records are all bad)


@dataclass
class Case:
    id: str
    files: dict[str, bytes]
    records: list[Record]
    day: date = DAY
    rejected: str | None = None  # a fragment of the rejection, when the day must be rejected
    reasons: tuple[str, ...] = ()  # fragments the quarantine reasons must contain
    warnings: tuple[str, ...] = ()
    checks: list = field(default_factory=list)  # extra checks of the published rows


def daily_rows(file: str, n: int, store: str = "S01", first_line: int = 2, prefix: str = "I") -> list[Record]:
    """Units 1..7 and revenue units x 2.49: a swap of the two can never go unnoticed."""
    return [
        Record(file, first_line + i, store, f"{prefix}{i:03d}", float(i % 7 + 1), round((i % 7 + 1) * 2.49, 2))
        for i in range(n)
    ]


def csv_bytes(records: list[Record], header: str = HEADER, sep: str = ",", encoding: str = "utf-8") -> bytes:
    lines = [f"{DAY}{sep}{r.store}{sep}{r.item}{sep}{r.units:g}{sep}{r.revenue}\n" for r in records]
    return (header.replace(",", sep) + "".join(lines)).encode(encoding)


def money_vs_units() -> Case:
    records = daily_rows("till.csv", 30)
    lines = "".join(f"{DAY},{r.store},{r.item},{r.units:g},{r.revenue}\n" for r in records)
    data = ("date,store,sku,qty,sales\n" + lines).encode()  # `sales` is money, `qty` is units

    def money_stays_money(published: pd.DataFrame) -> None:
        row = published.set_index("item_id").loc["I001"]
        assert (row["units"], row["revenue"]) == (2.0, 4.98)

    return Case("money-vs-units-header", {"till.csv": data}, records, checks=[money_stays_money])


def unparseable_revenue() -> Case:
    records = daily_rows("a.csv", 40)
    bad = Record("a.csv", 42, "S01", "I900", 1.0, None, bad=True)
    data = csv_bytes(records) + f'{DAY},S01,I900,1,"8,00"\n'.encode()
    reason = "revenue is not a number (got '8,00')"
    return Case("unparseable-revenue", {"a.csv": data}, [*records, bad], reasons=(reason,))


def windows_1252() -> Case:
    records = [Record("w.csv", 2 + i, "Café", f"PROMO–€{i}", float(i + 1), round((i + 1) * 2.49, 2)) for i in range(20)]
    return Case("cp1252", {"w.csv": csv_bytes(records, encoding="cp1252")}, records, warnings=("Windows-1252",))


def day_first_pos() -> Case:
    day = date(2010, 12, 2)
    lines, records = [], []
    for i in range(20):
        qty, price = i % 5 + 1, 2.55
        lines.append(f"5363{i:02d},85123A,WHITE HEART,{qty},02/12/2010 08:{i:02d},{price},17850,United Kingdom\n")
        records.append(Record("pos.csv", 2 + i, "United Kingdom", "85123A", qty, qty * price))
    lines.append("C536379,85123A,WHITE HANGING HEART,-2,02/12/2010 09:41,2.55,17850,United Kingdom\n")
    records.append(Record("pos.csv", 22, "United Kingdom", "85123A", -2.0, -2 * 2.55))  # a return, netted
    lines.append("536380,POST,POSTAGE,3,02/12/2010 10:00,18.00,12583,France\n")
    records.append(Record("pos.csv", 23, "France", "POST", 3.0, 54.0, bad=True))  # excluded, with its reason

    def on_the_second_of_december(published: pd.DataFrame) -> None:
        assert set(published["date"]) == {day}

    return Case(
        "day-first-dates",
        {"pos.csv": (POS_HEADER + "".join(lines)).encode()},
        records,
        day=day,
        reasons=("non-product line (stock code POST)",),
        checks=[on_the_second_of_december],
    )


def semicolons() -> Case:
    records = daily_rows("s.csv", 20)
    return Case("semicolon-delimiter", {"s.csv": csv_bytes(records, sep=";")}, records)


def header_only_next_to_good() -> Case:
    records = daily_rows("a.csv", 20)
    files = {"a.csv": csv_bytes(records), "empty_export.csv": HEADER.encode()}
    return Case("header-only-next-to-good-file", files, records, warnings=("header only",))


def header_only_alone() -> Case:
    return Case("header-only-file-alone", {"empty_export.csv": HEADER.encode()}, [], rejected="empty_export.csv")


def mixed_encodings() -> Case:
    data = (HEADER + f"{DAY},Café,A,1,2.49\n").encode() + f"{DAY},Café,B,2,4.98\n".encode("cp1252")
    records = [
        Record("mixed.csv", 2, "Café", "A", 1.0, 2.49, bad=True),
        Record("mixed.csv", 3, "Café", "B", 2.0, 4.98, bad=True),
    ]
    return Case("mixed-encodings", {"mixed.csv": data}, records, rejected="mixes UTF-8 and another encoding")


def corrupt_gzip() -> Case:
    records = [r.__class__(**{**r.__dict__, "bad": True}) for r in daily_rows("day.csv.gz", 200)]
    data = gzip.compress(csv_bytes(records))
    return Case("corrupt-gzip", {"day.csv.gz": data[: len(data) // 2]}, records, rejected="not a valid gzip file")


def corrupt_parquet() -> Case:
    records = [r.__class__(**{**r.__dict__, "bad": True, "line": r.line - 1}) for r in daily_rows("day.parquet", 50)]
    frame = pd.DataFrame(
        {"date": str(DAY), "store_id": [r.store for r in records], "item_id": [r.item for r in records],
         "units": [r.units for r in records], "revenue": [r.revenue for r in records]}
    )  # fmt: skip
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer)
    data = bytearray(buffer.getvalue())
    data[200:230] = b"\xff" * 30  # a damaged data page; the footer is intact
    return Case("corrupt-parquet", {"day.parquet": bytes(data)}, records, rejected="not a valid Parquet file")


def parquet_nan_revenue() -> Case:
    table = pa.table(
        {"date": [str(DAY)] * 30, "store_id": ["S01"] * 30, "item_id": [f"I{i:03d}" for i in range(30)],
         "units": [float(i % 7 + 1) for i in range(30)],
         "revenue": pa.array([float("nan")] + [round((i % 7 + 1) * 2.49, 2) for i in range(1, 30)])}
    )  # fmt: skip
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    records = [
        Record("p.parquet", i + 1, "S01", f"I{i:03d}", float(i % 7 + 1), round((i % 7 + 1) * 2.49, 2), bad=i == 0)
        for i in range(30)
    ]
    reason = "revenue is not a number (got 'nan')"
    return Case("parquet-nan-revenue", {"p.parquet": buffer.getvalue()}, records, reasons=(reason,))


# issue 27 row 6: the characters of the id rule (salescast.ids), once in a store id and once in
# an item id, via CSV (NUL included: a stray NUL is the record's problem) and via Parquet alike
HOSTILE_ID_CHARACTERS = (
    "\n\t\x07\x1b\x00"  # controls
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f"  # bidi
    "\u200b\u200c\u200d\ufeff\u2060"  # zero-width
)


def _hostile_records(file: str, lines: list[int], store: str) -> list[Record]:
    """The hostile ids, then 1000 good records of ``store`` (bad records stay under 5%)."""
    ids = [(f"S{c}{n:02d}", "I001") for n, c in enumerate(HOSTILE_ID_CHARACTERS)]
    ids += [(store, f"I{n:02d}{c}X") for n, c in enumerate(HOSTILE_ID_CHARACTERS)]
    ids += [(store, f"G{n:03d}") for n in range(1000)]
    return [
        Record(file, line, store, item, 1.0, 2.49, bad=n < 2 * len(HOSTILE_ID_CHARACTERS))
        for n, ((store, item), line) in enumerate(zip(ids, lines, strict=False))
    ]


def hostile_ids() -> Case:
    import csv

    placeholder = _hostile_records("ids.csv", list(range(2, 3000)), "S01")
    text, lines, line = io.StringIO(newline=""), [], 1
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["date", "store_id", "item_id", "units", "revenue"])
    for r in placeholder:
        writer.writerow([str(DAY), r.store, r.item, "1", "2.49"])
        line += 1 + r.store.count("\n") + r.item.count("\n")  # a quoted newline is a line of its own
        lines.append(line)
    in_csv = _hostile_records("ids.csv", lines, "S01")
    in_parquet = _hostile_records("ids.parquet", list(range(1, 3000)), "S02")
    table = pa.table(
        {"date": [str(DAY)] * len(in_parquet), "store_id": [r.store for r in in_parquet],
         "item_id": [r.item for r in in_parquet], "units": [1.0] * len(in_parquet), "revenue": [2.49] * len(in_parquet)}
    )  # fmt: skip
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    reasons = tuple(
        f"{column} contains {kind} U+{ord(c):04X}"
        for c, kind in [("\x00", "a control character"), ("\x07", "a control character"),
                        ("\u202e", "a bidirectional control character"),
                        ("\u200b", "an invisible (zero-width or formatting) character")]
        for column in ("store_id", "item_id")
    )  # fmt: skip
    files = {"ids.csv": text.getvalue().encode(), "ids.parquet": buffer.getvalue()}
    return Case("hostile-ids", files, [*in_csv, *in_parquet], reasons=reasons)


CASES = [
    money_vs_units(),
    unparseable_revenue(),
    windows_1252(),
    day_first_pos(),
    semicolons(),
    header_only_next_to_good(),
    header_only_alone(),
    mixed_encodings(),
    corrupt_gzip(),
    corrupt_parquet(),
    parquet_nan_revenue(),
    hostile_ids(),
]


def run(lake: Lake, case: Case, run_id: str) -> IngestResult | DayRejected:
    try:
        return ingest_day(lake, case.day, run_id, 0.05)
    except DayRejected as rejected:
        return rejected


def snapshot(lake: Lake, day: date) -> dict:
    """What a re-run must leave exactly as it was."""
    curated = lake.curated_dir(day)
    quarantine = lake.root / "quarantine" / "sales" / f"dt={day}"
    rows = (
        lake.read_parquet(quarantine / QUARANTINE_FILE).drop(columns="run_id")
        if (quarantine / QUARANTINE_FILE).exists()
        else None
    )
    return {
        "curated": (curated / DATA_FILE).read_bytes() if (curated / DATA_FILE).exists() else None,
        "published": (curated / SUCCESS_MARKER).exists(),
        "quarantine_files": [p.name for p in [*lake.list_files(quarantine), *lake.iter_dirs(quarantine)]],
        "quarantine_rows": None if rows is None else rows.astype(str).to_dict("records"),
        "raw": {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in lake.list_files(lake.raw_dir(day))},
    }


def account(lake: Lake, case: Case) -> None:
    """Published or quarantined with a reason, never both, never neither; sums exact."""
    quarantine = lake.root / "quarantine" / "sales" / f"dt={case.day}" / QUARANTINE_FILE
    q = (
        lake.read_parquet(quarantine)
        if quarantine.exists()
        else pd.DataFrame(columns=["source_file", "line_number", "kind", "reason"])
    )
    assert q["reason"].map(lambda r: isinstance(r, str) and len(r) > 10).all(), q
    for fragment in case.reasons:
        assert q["reason"].str.contains(fragment, regex=False).any(), (fragment, q["reason"].tolist())
    whole_files = set(q.loc[q["kind"] == "unreadable_file", "source_file"])
    lines = q.loc[q["kind"] != "unreadable_file", ["source_file", "line_number"]]
    assert not lines.duplicated().any(), "a record is quarantined twice"
    quarantined_lines = {(f, int(n)) for f, n in lines.itertuples(index=False)}
    inputs = {(r.file, r.line) for r in case.records}
    assert quarantined_lines <= inputs, quarantined_lines - inputs  # every entry is a real input record
    assert whole_files <= set(case.files)
    in_quarantine = [r for r in case.records if r.file in whole_files or (r.file, r.line) in quarantined_lines]
    assert {(r.file, r.line) for r in in_quarantine} == {(r.file, r.line) for r in case.records if r.bad}

    kept = [r for r in case.records if r not in in_quarantine]
    curated = lake.curated_dir(case.day)
    if not (curated / SUCCESS_MARKER).exists():
        assert kept == [], "records neither published nor quarantined"
        return
    published = lake.read_parquet(curated / DATA_FILE)
    expected: dict[tuple[str, str], list[Record]] = defaultdict(list)
    for r in kept:
        expected[(r.store, r.item)].append(r)
    got = published.set_index(["store_id", "item_id"])
    assert set(got.index) == set(expected), "published rows that no kept record explains, or kept records missing"
    for key, records in expected.items():
        row = got.loc[key]
        assert row["source_rows"] == len(records), key  # each kept record summed once: never both, never twice
        assert row["units"] == pytest.approx(sum(r.units for r in records)), key
        revenues = [r.revenue for r in records]
        if any(v is None for v in revenues):
            assert pd.isna(row["revenue"]), key
        else:
            assert row["revenue"] == pytest.approx(sum(revenues)), key  # money is money, units are units
    for check in case.checks:
        check(published)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_every_record_is_published_or_quarantined_and_a_rerun_changes_nothing(lake, case):
    for name, data in case.files.items():
        lake.write_bytes(lake.landing_dir(case.day) / name, data)
    first = run(lake, case, "run1")
    if case.rejected:
        assert isinstance(first, DayRejected), "the day should have been rejected"
        assert case.rejected in str(first)
        assert "re-run the day" in str(first)
    else:
        assert isinstance(first, IngestResult), str(first)
        for fragment in case.warnings:
            assert any(fragment in w for w in first.warnings), first.warnings
    account(lake, case)
    before = snapshot(lake, case.day)
    assert before["raw"] == {name: hashlib.sha256(data).hexdigest() for name, data in case.files.items()}
    assert before["quarantine_files"] in ([], [QUARANTINE_FILE])

    second = run(lake, case, "run2")
    assert type(second) is type(first)
    assert snapshot(lake, case.day) == before  # same curated bytes, same quarantine rows in one file, same raw/
    account(lake, case)


# ---- issue 27 row 13: memory that does not grow with the day ---------------------------------------

_INGEST_CHILD = """
import sys
from datetime import date
from salescast.config import Settings
from salescast.ingest.pipeline import ingest_day
from salescast.lake import Lake
settings = Settings.from_env()
day = date.fromisoformat(sys.argv[1])
ingest_day(Lake.from_settings(settings), day, "memory", 0.05, memory_mb=settings.ingest_memory_mb)
"""


def _land_generated_day(lake: Lake, day: date, items: int, tmp_path) -> None:
    from salescast_dev.generate import PanelSpec, write_landing

    out = tmp_path / f"gen-{day}"
    write_landing(PanelSpec(stores=25, items=items, seed=3), day, day, out, defects=True, bad_file_rate=0.0)
    for path in sorted((out / day.isoformat()).iterdir()):
        lake.write_bytes(lake.landing_dir(day) / path.name, path.read_bytes())


def _peak_rss_mb_of_ingest(day: date) -> float:
    """Peak RSS of one ``ingest_day`` in a fresh process (its own ``ru_maxrss``, imports included),
    with DuckDB's share set low so that the bound, not the machine, is what is measured."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, SALESCAST_INGEST_MEMORY_MB="100")
    child = subprocess.Popen([sys.executable, "-c", _INGEST_CHILD, day.isoformat()], env=env)
    _, status, usage = os.wait4(child.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the ingest failed"
    return usage.ru_maxrss / 1024


def test_ingest_memory_does_not_grow_with_the_day(lake, tmp_path):
    """A day of ~6x the records (35k -> 210k) costs < 150 MB more at peak: the day is streamed in
    batches and checked in DuckDB within its limit. Before, every record cost 2.3-3.3 KB (a 10M-record
    day needed over 20 GB): here that would be > 400 MB more."""
    small, big = date(2025, 3, 3), date(2025, 3, 4)
    _land_generated_day(lake, small, 2000, tmp_path)
    _land_generated_day(lake, big, 12000, tmp_path)
    rss_small, rss_big = _peak_rss_mb_of_ingest(small), _peak_rss_mb_of_ingest(big)
    published = lake.read_parquet(lake.curated_dir(big) / DATA_FILE, ["source_rows"])["source_rows"].sum()
    assert published > 5 * lake.read_parquet(lake.curated_dir(small) / DATA_FILE, ["source_rows"])["source_rows"].sum()
    assert rss_big - rss_small < 150, f"peak RSS {rss_small:.0f} MB -> {rss_big:.0f} MB"
