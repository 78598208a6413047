"""The inventory row's fast path (RowShape) gives the record the checked path gives, and leaves every row it
does not take to the checks, which still name the field they refuse."""

import dataclasses
from datetime import UTC, datetime

import pytest

from integrations.connectors.oms import parse
from integrations.connectors.reader import PayloadReader, RowShape
from integrations.http import BadResponse

READER = PayloadReader("oms-test")


def _row(**changes):
    row = {"sku": "1001-RED-X-S", "warehouse": "MAIN", "on_hand": 7, "allocated": 2, "available": 5,
           "updated_at": "2026-03-01T10:00:00Z", "extra": "ignored"}  # fmt: skip
    row.update(changes)
    return {k: v for k, v in row.items() if v is not ...}


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"updated_at": "2026-03-01T10:00:00"},  # no zone: read as UTC
        {"updated_at": "2026-03-01T12:00:00+02:00"},
        {"updated_at": ""},  # present but empty: no stamp
        {"on_hand": "7"},  # a number sent as a string: the checked path accepts it
        {"on_hand": True},  # a bool is not the int the shape wants: the checked path decides
        {"allocated": 2.0},
    ],
)
def test_the_fast_path_and_the_checked_path_give_the_same_record(changes):
    row = _row(**changes)
    assert parse.stock_level(READER, row) == parse._stock_level_checked(READER, row)


def test_a_well_formed_row_is_read_by_the_shape_with_an_aware_utc_stamp():
    assert parse._STOCK_ROW.values(_row()) is not None
    record = parse.stock_level(READER, _row())
    assert (record.sku, record.on_hand, record.allocated, record.available) == ("1001-RED-X-S", 7, 2, 5)
    assert record.updated_at == datetime(2026, 3, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"on_hand": ...}, "field 'on_hand' is missing in inventory row 1001-RED-X-S"),
        ({"available": None}, "field 'available' is missing in inventory row 1001-RED-X-S"),
        ({"allocated": "two"}, "field 'allocated' in inventory row 1001-RED-X-S is not an integer: 'two'"),
        ({"warehouse": 3}, "field 'warehouse' in inventory row 1001-RED-X-S is not a str"),
        ({"updated_at": "yesterday"}, "field 'updated_at' in inventory row 1001-RED-X-S is not a date: 'yesterday'"),
        ({"sku": ...}, "field 'sku' is missing in inventory row"),
    ],
)
def test_a_bad_row_still_names_its_field(changes, message):
    with pytest.raises(BadResponse, match=message):
        parse.stock_level(READER, _row(**changes))


def test_a_row_that_is_not_an_object_is_refused_by_name():
    with pytest.raises(BadResponse, match="expected an object in inventory row, got list"):
        parse.stock_level(READER, ["1001-RED-X-S", "MAIN"])


def test_a_shape_takes_only_exact_types_and_refuses_field_names_it_cannot_compile():
    shape = RowShape(a=int, b=str)
    assert shape.values({"a": 1, "b": "x", "c": None}) == (1, "x")
    assert shape.values({"a": True, "b": "x"}) is None
    assert shape.values({"a": 1}) is None
    with pytest.raises(ValueError, match="identifiers"):
        RowShape(**{"a b": int})


def test_a_record_from_the_fast_path_is_the_frozen_record_the_class_makes():
    fast, checked = parse.stock_level(READER, _row()), parse._stock_level_checked(READER, _row())
    assert type(fast) is type(checked) and hash(fast) == hash(checked) and repr(fast) == repr(checked)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.on_hand = 1  # type: ignore[misc]


def test_a_page_is_read_row_by_row_as_stock_level_reads_each():
    page = [_row(), _row(on_hand="3"), _row(sku="2002-BLU-X-M", updated_at="")]
    assert parse.stock_levels(READER, page) == [parse._stock_level_checked(READER, row) for row in page]
    with pytest.raises(BadResponse, match="field 'on_hand' is missing in inventory row 1001-RED-X-S"):
        parse.stock_levels(READER, [_row(sku="OK-1"), _row(on_hand=...)])
