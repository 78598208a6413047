"""`manage.py backfill_orders`: the same upsert as the schedule, a progress bar, a summary; safe twice."""

import io

import pytest
from django.core.management import CommandError, call_command

from integrations.cursors import cursor_position
from orders.models import Order

pytestmark = pytest.mark.django_db


def backfill(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("backfill_orders", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.parametrize("kind", ["channeladvisor", "nuorder", "extensiv"])
def test_backfilling_twice_stores_each_order_once_and_leaves_the_schedules_cursor(kind, sales):
    channel = sales(kind)
    out, _ = backfill("--channel", channel.slug, "--since", "2026-10-01")
    count = Order.objects.filter(channel=channel).count()
    assert count > 0 and f"created {count}," in out
    pks = list(Order.objects.order_by("pk").values_list("pk", "updated_at"))

    out, _ = backfill("--channel", channel.slug, "--since", "2026-10-01")
    assert list(Order.objects.order_by("pk").values_list("pk", "updated_at")) == pks
    assert "created 0, updated 0" in out and f"unchanged {count}" in out
    assert cursor_position(channel=channel, flow="orders.download") == ""


def test_a_dry_run_lists_what_would_change_and_writes_nothing(sales):
    channel = sales("extensiv")
    out, _ = backfill("--channel", channel.slug, "--since", "2026-10-01", "--dry-run")
    assert not Order.objects.exists()
    assert "create" in out and "Dry run: nothing was written." in out


def test_the_window_limits_what_is_read(sales, sandbox):
    channel = sales("extensiv")
    backfill("--channel", channel.slug, "--since", "2026-11-01T00:00:00Z", "--until", "2026-11-01T12:00:00Z")
    numbers = set(Order.objects.values_list("number", flat=True))
    assert numbers == {"5001", "5002"}  # modified 08:05 and 11:05; the next at 14:05


def test_backfill_runs_beside_a_scheduled_download_without_duplicates(sales, run):
    channel = sales("extensiv")
    run(channel, "orders.download")
    count = Order.objects.count()
    out, _ = backfill("--channel", channel.slug, "--since", "2026-10-01")
    assert Order.objects.count() == count and "created 0" in out


def test_progress_goes_to_stderr(sales):
    channel = sales("extensiv")
    _, err = backfill("--channel", channel.slug, "--since", "2026-10-01")
    assert "orders" in err


def test_an_unknown_channel_or_an_empty_window_is_refused(sales):
    channel = sales("extensiv")
    with pytest.raises(CommandError, match="no sales channel"):
        backfill("--channel", "nope", "--since", "2026-10-01")
    with pytest.raises(CommandError, match="after --since"):
        backfill("--channel", channel.slug, "--since", "2026-10-02", "--until", "2026-10-01")


def test_a_nuorder_backfill_that_reads_nothing_says_which_statuses_it_left_out(sales, sandbox):
    api = sandbox.api("nuorder")
    for order in list(api.orders.values()):
        api.set_status(order["_id"], "pending")
    channel = sales("nuorder", settings={"order_statuses": ["approved"]})
    out, _ = backfill("--channel", channel.slug, "--since", "2026-10-01")
    assert not Order.objects.filter(channel=channel).exists()
    assert f"{len(api.orders)} order(s) skipped: pending (not in the order_statuses setting)" in out


def test_nuorder_downloads_edited_orders_by_default_but_not_unapproved_ones(sales, sandbox, run):
    api = sandbox.api("nuorder")
    edited = api.add_order(status="edited")
    pending = api.add_order(status="pending")
    api.modify_order(pending["_id"], notes="changed by the rep")  # edited, but not yet approved
    processed = api.add_order(status="processed")  # taken by another system before, then edited
    api.modify_order(processed["_id"], notes="changed after processing")
    channel = sales("nuorder")  # the default statuses
    result = run(channel, "orders.download")
    numbers = set(Order.objects.filter(channel=channel).values_list("number", flat=True))
    assert edited["order_number"] in numbers
    assert pending["order_number"] not in numbers
    assert processed["order_number"] not in numbers
    assert "1 order(s) skipped: edited but pending (not in the order_statuses setting)" in result.note
    assert "1 order(s) skipped: edited but processed (not in the order_statuses setting)" in result.note
