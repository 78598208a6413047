import csv
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from catalog.models import ItemMapping
from catalog.spreadsheets import COLUMNS
from catalog.sync import catalog_items_download
from catalog.sync_common import FLOW
from integrations.flows import RunReport
from tests.factories import ChannelFactory


@pytest.fixture
def channel(db):
    return ChannelFactory(slug="shop", name="Shop")


@pytest.fixture
def catalog(sandbox_channel):
    """The World's items in the hub, through the fulfillment system's own catalog download."""
    oms = sandbox_channel("oms")
    catalog_items_download(oms, report=RunReport(flow=FLOW))
    return oms


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    """Write rows (header first unless given) to a CSV file and return its path."""

    def write(rows: Sequence[Sequence[str]], header: Sequence[str] = COLUMNS, name: str = "mappings.csv") -> Path:
        path = tmp_path / name
        with open(path, "w", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream)
            writer.writerow(header)
            writer.writerows(rows)
        return path

    return write


def mapping_snapshot() -> list[tuple]:
    """Everything an import may change, to prove a refused import changed nothing."""
    return list(
        ItemMapping.objects.order_by("pk").values_list(
            "pk",
            "channel_id",
            "channel_sku",
            "item_id",
            "status",
            "method",
            "channel_product_id",
            "channel_upc",
            "note",
        )
    )
