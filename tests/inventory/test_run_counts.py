"""No false greens: an inventory upload that leaves pushes of unknown outcome is partial, never ok, and its
counts add up (seen = created + updated + skipped + failed + unknown)."""

from contextlib import closing

import pytest

from integrations.connectors import connector_for
from integrations.flows import RunReport
from integrations.models import SyncIssue, SyncRun
from integrations.runner import flow_run
from inventory.ledger import channel_quantities
from inventory.models import PushIntent
from inventory.pushes import SETTLE_FIELDS, _settle_read
from tests.inventory.conftest import run

pytestmark = pytest.mark.django_db


def adds_up(run_) -> bool:
    return run_.seen == run_.created + run_.updated + run_.skipped + run_.failed + run_.unknown


def off_by_one(api) -> None:
    """Everything on NuORDER differs from the hub's figure, so every listing is pushed."""
    for product in api.products.values():
        for size in product["sizes"]:
            for warehouse in ("default", "east"):
                api.set_quantity(product["_id"], warehouse, size["size"], 1000)


def left_unknown(sandbox, sales):
    """A NuORDER channel whose first upload left its pushes of unknown outcome (503s, the read-back too); the
    faults are still on."""
    channel = sales("nuorder")
    api = sandbox.api("nuorder")
    off_by_one(api)
    api.inject("status", times=1000, status=503, method="POST", path=r"^/api/inventory/")
    api.inject("status", times=1000, status=503, method="GET", path=r"^/api/product/")
    run(channel, "inventory.upload")
    return channel, api


def test_pushes_left_unknown_after_503s_make_the_run_partial_with_an_unknown_count(sandbox, sales):
    channel = sales("nuorder")
    api = sandbox.api("nuorder")
    off_by_one(api)
    api.inject("status", times=1000, status=503, method="POST", path=r"^/api/inventory/")
    api.inject("status", times=1000, status=503, method="GET", path=r"^/api/product/")  # the read-back too
    result = run(channel, "inventory.upload")
    pushes = PushIntent.objects.filter(state="unknown").count()
    assert pushes > 0
    assert (result.status, result.unknown, result.failed) == ("partial", pushes, 0)
    assert adds_up(result)
    assert f"{pushes} push(es) of unknown outcome" in result.note


def test_the_next_run_that_still_cannot_read_them_back_fails_and_sends_nothing(sandbox, sales):
    channel, api = left_unknown(sandbox, sales)
    api.clear_faults()
    api.inject("status", times=1000, status=503, method="GET", path=r"^/api/product/")  # still unreadable
    api.calls.clear()
    second = flow_run(channel=channel, flow="inventory.upload", trigger=SyncRun.Trigger.MANUAL)
    assert second.status == "failed" and "503" in second.error
    assert api.calls_to("POST", r"^/api/inventory/") == 0


def test_once_the_channel_answers_the_unknown_pushes_are_settled_and_the_run_is_ok(sandbox, sales):
    channel, api = left_unknown(sandbox, sales)
    api.clear_faults()
    result = run(channel, "inventory.upload")
    assert (result.status, result.unknown) == ("ok", 0)
    assert adds_up(result)
    assert "earlier pushes of unknown outcome settled" in result.note
    assert not PushIntent.objects.filter(state="unknown").exists()


def test_unknown_pushes_two_workers_read_before_either_settled_are_settled_and_counted_once(sandbox, sales):
    """A chunk task and the next run can both read the same unknown pushes before either writes: the second
    to hold their rows finds them settled already, and neither writes nor counts them again."""
    channel, api = left_unknown(sandbox, sales)
    api.clear_faults()
    unknown = PushIntent.objects.filter(state="unknown")
    rows = list(unknown.values_list(*SETTLE_FIELDS, "mapping__channel_sku", "channel_warehouse__external_id", "state"))
    with closing(connector_for(channel)) as connector:
        found = channel_quantities(connector=connector, channel_id=channel.id, keys={(r[1], r[2]) for r in rows})
    first, second = RunReport(flow="inventory.upload"), RunReport(flow="inventory.upload")

    _settle_read(rows, found, first, this_run=False)
    _settle_read(rows, found, second, this_run=False)

    assert first.notes == [f"earlier pushes of unknown outcome settled: 0 applied, {len(rows)} not"]
    assert second.notes == []
    assert PushIntent.objects.filter(state="failed").count() == len(rows) > 0


def test_a_clean_upload_adds_up_and_is_ok(sandbox, sales):
    result = run(sales("channeladvisor"), "inventory.upload")
    assert (result.status, result.unknown, result.note) == ("ok", 0, "")
    assert adds_up(result)


def test_a_push_of_unknown_outcome_settled_as_not_applied_is_a_failed_record_in_the_issue_queue(sandbox, sales):
    """A 503 on every push (the channel applied none) whose read-back succeeds: each push is settled in the same
    run as not applied — counted failed, so the run is partial, and each failed listing is in the issue queue,
    as docs/operations.md says of every partial run. The next run pushes again and resolves the issues."""
    channel = sales("nuorder")
    api = sandbox.api("nuorder")
    off_by_one(api)
    api.inject("status", times=1000, status=503, method="POST", path=r"^/api/inventory/")
    first = run(channel, "inventory.upload")
    assert (first.status, first.unknown) == ("partial", 0) and first.failed > 0
    assert adds_up(first)
    open_issues = SyncIssue.objects.filter(channel=channel, flow="inventory.upload", status="open", last_run=first)
    assert open_issues.count() == first.failed
    assert all("not applied" in issue.message and "pushes again" in issue.message for issue in open_issues)
    api.clear_faults()
    second = run(channel, "inventory.upload")
    assert second.status == "ok"
    assert not SyncIssue.objects.filter(channel=channel, flow="inventory.upload", status="open").exists()
