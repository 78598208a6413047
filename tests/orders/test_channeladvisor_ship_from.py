"""ChannelAdvisor Ship calls name the distribution center the shipment left from, end to end against the
sandbox: the fulfillment warehouse of the shipment, paired with exactly one of the channel's DCs, goes as
`DistributionCenterID`; unpaired or paired with several, none is sent and the run's note says why."""

import pytest

from inventory.models import ChannelWarehouse, Warehouse, WarehousePairing
from tests.orders.test_shipments import ship, simple_line

pytestmark = pytest.mark.django_db


def pair(channel, code: str, *dc_ids: int) -> None:
    warehouse, _ = Warehouse.objects.get_or_create(code=code)
    for dc_id in dc_ids:
        dc, _ = ChannelWarehouse.objects.get_or_create(channel=channel, external_id=str(dc_id))
        WarehousePairing.objects.create(channel_warehouse=dc, warehouse=warehouse)


def shipped_from(sandbox, submitted, run, warehouse: str, pairs: dict[str, tuple[int, ...]], **settings):
    channel = submitted("channeladvisor", **({"settings": settings} if settings else {}))
    for code, dc_ids in pairs.items():
        pair(channel, code, *dc_ids)
    line = simple_line(channel)
    ship(sandbox, line.order, {line.external_id: 1}, warehouse=warehouse)
    run(channel.fulfillment, "shipments.download")
    result = run(channel, "shipments.upload")
    assert (result.status, result.created) == ("ok", 1), result.error
    (sent,) = sandbox.api("channeladvisor").shipments
    return sent, result


def test_the_dc_paired_with_the_ship_from_warehouse_is_sent(submitted, run, sandbox):
    ca = sandbox.api("channeladvisor")
    east = ca.dc_id("EAST")

    sent, result = shipped_from(sandbox, submitted, run, "MAIN", {"MAIN": (east,), "EAST": (ca.dc_id("MAIN"),)})

    assert sent["DistributionCenterID"] == east
    assert ca.orders[sent["OrderID"]]["Fulfillments"][-1]["DistributionCenterID"] == east
    assert result.note == ""


def test_an_unpaired_warehouse_sends_no_dc_and_the_run_says_why(submitted, run, sandbox):
    sent, result = shipped_from(
        sandbox, submitted, run, "MAIN", {"EAST": (sandbox.api("channeladvisor").dc_id("EAST"),)}
    )

    assert "DistributionCenterID" not in sent
    assert "warehouse MAIN is paired with no warehouse of" in result.note


def test_a_warehouse_paired_with_two_dcs_sends_none_and_the_run_says_which(submitted, run, sandbox):
    ca = sandbox.api("channeladvisor")
    east, main = ca.dc_id("EAST"), ca.dc_id("MAIN")

    sent, result = shipped_from(sandbox, submitted, run, "MAIN", {"MAIN": (east, main)})

    assert "DistributionCenterID" not in sent
    assert "warehouse MAIN is paired with 2 warehouses of" in result.note
    assert str(east) in result.note and str(main) in result.note


def test_unpaired_the_channels_dc_setting_still_applies(submitted, run, sandbox):
    east = sandbox.api("channeladvisor").dc_id("EAST")

    sent, _ = shipped_from(sandbox, submitted, run, "MAIN", {}, distribution_center_id=str(east))

    assert sent["DistributionCenterID"] == east
