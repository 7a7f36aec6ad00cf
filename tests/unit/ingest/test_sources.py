"""The source mappings (``salescast.ingest.sources``): money is never read as units."""

from __future__ import annotations

from salescast.ingest.sources import load_sources


def test_no_mapping_lists_a_money_word_as_units():
    money = {"sales", "revenue", "amount", "price", "unitprice", "value", "turnover"}
    for mapping in load_sources():
        names = {n.lower().replace("_", "").replace(" ", "") for n in mapping.columns["units"]}
        assert not names & money, mapping.name
