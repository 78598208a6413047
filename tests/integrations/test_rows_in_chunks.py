"""rows_in_chunks: a loop that writes as it reads gets every row once, in the queryset's order, with no read left
open across its writes (SQLite refuses a write from a connection whose read began before another's commit)."""

import pytest

from integrations.chunks import rows_in_chunks
from integrations.models import Channel

pytestmark = pytest.mark.django_db


def test_every_row_once_in_order_while_the_loop_writes():
    for n in range(7):
        Channel.objects.create(name=f"C{n}", slug=f"c{n}", kind="channeladvisor")
    seen = []
    for channel in rows_in_chunks(Channel.objects.order_by("-slug").only("slug", "name"), 3):
        Channel.objects.filter(pk=channel.pk).update(name=f"renamed {channel.slug}")  # a write mid-loop
        seen.append(channel.slug)
    assert seen == [f"c{n}" for n in reversed(range(7))]
    assert set(Channel.objects.values_list("name", flat=True)) == {f"renamed c{n}" for n in range(7)}


def test_rows_gone_before_their_chunk_is_read_are_left_out():
    kept = Channel.objects.create(name="kept", slug="kept", kind="channeladvisor")
    gone = Channel.objects.create(name="gone", slug="gone", kind="channeladvisor")
    rows = rows_in_chunks(Channel.objects.order_by("slug"), 1)
    first = next(rows)
    assert first.pk == gone.pk
    Channel.objects.filter(pk=kept.pk).delete()
    assert list(rows) == []
