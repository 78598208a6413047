"""The shipments admin: the list (filters, search, query budget), the shipment and order pages, and the re-send
of failed uploads through the test client, with the shipments made by the real flows against the sandboxes."""

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from integrations.models import Channel
from orders.models import (
    EventKind,
    OrderEvent,
    OrderLine,
    OrderRules,
    Shipment,
    ShipmentLine,
    ShipmentUpload,
    ShipmentUploadMode,
    UploadState,
)
from tests.factories import ChannelFactory
from tests.orders.factories import OrderFactory, OrderLineFactory, UserFactory
from tests.orders.test_shipments import on_channel, ship, uploads_on_sandbox

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:orders_shipment_changelist")
RESEND = "resend_failed_uploads"


@dataclass
class Outbox:
    """A ChannelAdvisor channel with one shipment in each state of the outbox, each on its own order."""

    channel: Channel
    sent: Shipment
    failed: Shipment  # the channel refused its carrier
    retrying: Shipment  # the channel answered 500 for the whole run: pending, waiting for its retry
    new: Shipment  # downloaded, not uploaded yet

    @property
    def all(self) -> list[Shipment]:
        return [self.sent, self.failed, self.retrying, self.new]


@pytest.fixture
def outbox(submitted, run, sandbox) -> Outbox:
    channel = submitted("channeladvisor")
    sent, failed, retrying, new = plain_lines(channel, 4)
    ship(sandbox, sent.order, {sent.external_id: 1})
    ship(sandbox, failed.order, {failed.external_id: 1}, carrier="Pigeon", service="Wing")
    run(channel.fulfillment, "shipments.download")
    assert run(channel, "shipments.upload").created == 1
    ship(sandbox, retrying.order, {retrying.external_id: 1})
    run(channel.fulfillment, "shipments.download")
    api = sandbox.api("channeladvisor")
    api.inject("status", status=500, times=50, method="POST", path=r"/Ship$")
    run(channel, "shipments.upload")
    api.clear_faults()
    ship(sandbox, new.order, {new.external_id: 1})
    run(channel.fulfillment, "shipments.download")
    shipments = [Shipment.objects.get(order=line.order) for line in (sent, failed, retrying, new)]
    states = [s.uploads.get().state for s in shipments]
    assert states == [UploadState.SENT, UploadState.FAILED, UploadState.PENDING, UploadState.PENDING]
    return Outbox(channel, *shipments)


def plain_lines(channel: Channel, count: int) -> list[OrderLine]:
    """A plain line (not a bundle, no component) of each of `count` submitted orders."""
    lines: dict[int, OrderLine] = {}
    candidates = OrderLine.objects.filter(order__channel=channel, parent=None, is_bundle=False).exclude(
        order__fulfillment_number=""
    )
    for line in candidates.select_related("order").order_by("order__external_id", "position"):
        lines.setdefault(line.order_id, line)
    assert len(lines) >= count, f"the seeded {channel.kind} orders have fewer than {count} submitted orders"
    return list(lines.values())[:count]


def stored_shipment(order=None, *, states=(UploadState.SENT,), **fields) -> Shipment:
    """A shipment written straight to the tables (for lists of many rows): one line, an upload per state."""
    order = order or OrderFactory(submitted=True)
    shipment = Shipment.objects.create(
        order=order, channel=order.channel, external_id=f"SH-{order.pk}-{Shipment.objects.count()}", **fields
    )
    ShipmentLine.objects.create(shipment=shipment, order_line=OrderLineFactory(order=order), quantity=2)
    for state in states:
        ShipmentUpload.objects.create(shipment=shipment, channel=ChannelFactory(), state=state, attempts=1)
    return shipment


def staff(*codenames: str):
    user = UserFactory()
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="orders", codename__in=codenames))
    return user


def listed(client, query: dict | None = None) -> list[int]:
    return [s.pk for s in client.get(CHANGELIST, query or {}).context["cl"].result_list]


def resend(client, shipments, *, confirm: bool = False, follow: bool = False):
    data = {"action": RESEND, "_selected_action": [s.pk for s in shipments]}
    if confirm:
        data["confirm"] = "yes"
    return client.post(CHANGELIST, data, follow=follow)


def upload_states(shipments) -> list[str]:
    return [s.uploads.get().state for s in shipments]


# Pages, filters, search, query budgets.


def test_every_shipments_admin_page_answers(admin_client, outbox):
    urls = [
        CHANGELIST,
        f"{CHANGELIST}?upload=failed&channel={outbox.channel.pk}",
        reverse("admin:orders_shipment_change", args=[outbox.failed.pk]),
        reverse("admin:orders_order_change", args=[outbox.failed.order_id]),
    ]
    for url in urls:
        assert admin_client.get(url).status_code == 200, url


def test_the_list_shows_order_tracking_units_and_the_upload_state_with_its_error(admin_client, outbox):
    page = admin_client.get(CHANGELIST).content.decode()
    failed = outbox.failed
    assert reverse("admin:orders_order_change", args=[failed.order_id]) in page
    assert failed.order.number in page and failed.tracking_number in page and failed.invoice_number in page
    assert "Pigeon / Wing" in page
    assert 'class="sy-badge sy-failed"' in page and 'class="sy-badge sy-pending"' in page  # states as badges
    assert "1 attempt: " in page and "ShippingCarrier &#x27;Pigeon&#x27; is not valid" in page
    assert "3 attempts: " in page


def test_the_shipment_page_shows_its_lines_and_uploads_read_only(admin_client, outbox):
    shipment = outbox.failed
    line = shipment.lines.get().order_line
    page = admin_client.get(reverse("admin:orders_shipment_change", args=[shipment.pk])).content.decode()
    assert line.channel_sku in page and line.external_id in page
    assert "ShippingCarrier &#x27;Pigeon&#x27; is not valid" in page and outbox.channel.name in page
    assert 'name="_save"' not in page


def test_filters_by_channel_and_upload_state(admin_client, outbox):
    other = stored_shipment(states=(UploadState.FAILED,))
    both = stored_shipment(states=(UploadState.FAILED, UploadState.FAILED))  # two channels: still one row

    assert set(listed(admin_client, {"upload": "failed"})) == {outbox.failed.pk, other.pk, both.pk}
    assert set(listed(admin_client, {"upload": "pending"})) == {outbox.retrying.pk, outbox.new.pk}
    assert listed(admin_client, {"upload": "sent"}) == [outbox.sent.pk]
    assert set(listed(admin_client, {"channel": outbox.channel.pk})) == {s.pk for s in outbox.all}
    assert listed(admin_client, {"channel": other.channel_id, "upload": "failed"}) == [other.pk]


def test_search_finds_a_shipment_by_tracking_invoice_shipment_id_or_any_order_number(admin_client, outbox):
    shipment = outbox.retrying
    order = shipment.order
    second = stored_shipment(order)  # a second shipment of the same order
    terms = (shipment.tracking_number, shipment.invoice_number, shipment.external_id)
    for term in terms:
        assert listed(admin_client, {"q": term}) == [shipment.pk], term
    for term in (order.number, order.fulfillment_number, order.external_id):
        assert sorted(listed(admin_client, {"q": term})) == sorted([shipment.pk, second.pk]), term
    assert listed(admin_client, {"q": shipment.tracking_number[:-2]}) == []  # exact: no scan for a part


def test_the_list_costs_the_same_queries_for_5_or_30_shipments(admin_client, django_assert_max_num_queries):
    for _ in range(5):
        stored_shipment(states=(UploadState.FAILED, UploadState.SENT))
    admin_client.get(CHANGELIST)  # warm the session
    with django_assert_max_num_queries(12) as few:
        assert len(listed(admin_client)) == 5
    for _ in range(25):
        stored_shipment(states=(UploadState.FAILED, UploadState.SENT))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(listed(admin_client)) == 30


def test_the_order_page_shows_its_shipments_for_the_same_queries_for_1_or_4(
    admin_client, django_assert_max_num_queries
):
    order = OrderFactory(submitted=True)
    stored_shipment(order, tracking_number="1ZFIRST")
    url = reverse("admin:orders_order_change", args=[order.pk])
    admin_client.get(url)  # warm the session
    with django_assert_max_num_queries(30) as few:
        page = admin_client.get(url).content.decode()
    assert "1ZFIRST" in page and reverse("admin:orders_shipment_change", args=[order.shipments.get().pk]) in page
    for _ in range(3):
        stored_shipment(order, states=(UploadState.FAILED,))
    with django_assert_max_num_queries(len(few.captured_queries)):
        admin_client.get(url)


def test_the_order_page_shows_a_failed_upload_and_why(admin_client, outbox):
    page = admin_client.get(reverse("admin:orders_order_change", args=[outbox.failed.order_id])).content.decode()
    assert outbox.failed.tracking_number in page and outbox.failed.invoice_number in page
    assert "sy-badge sy-failed" in page and "1 attempt: " in page


# Re-send.


def test_the_confirmation_lists_each_upload_what_will_happen_or_why_not_and_changes_nothing(admin_client, outbox):
    page = resend(admin_client, outbox.all).content.decode()
    assert "1 of 4 uploads will be re-sent" in page
    assert "Will be re-sent (read back from the channel first, so it is never sent twice)" in page
    assert "Refused: already sent at " in page
    assert "Refused: pending, waiting for retry at " in page and "→ 500)" in page
    assert "Refused: pending; will be sent by the next run." in page
    assert 'value="Yes, re-send 1 failed upload"' in page
    assert upload_states(outbox.all) == [UploadState.SENT, UploadState.FAILED, UploadState.PENDING, UploadState.PENDING]
    assert not OrderEvent.objects.filter(message__contains="re-queued").exists()


def test_a_pending_upload_of_a_channel_waiting_for_complete_orders_says_so(admin_client, outbox):
    OrderRules.objects.create(channel=outbox.channel, shipment_upload=ShipmentUploadMode.COMPLETE)
    page = resend(admin_client, [outbox.new]).content.decode()
    assert "sent once the whole order has shipped" in page
    assert 'value="Yes,' not in page


def test_confirm_requeues_only_the_failed_upload_and_the_next_run_sends_it_once(admin_client, outbox, run, sandbox):
    Shipment.objects.filter(pk=outbox.failed.pk).update(carrier="UPS", service="Ground")  # corrected by hand
    retry_at = outbox.retrying.uploads.get().next_attempt_at

    page = resend(admin_client, outbox.all, confirm=True, follow=True).content.decode()
    assert "1 upload(s) re-queued" in page
    assert "Not re-queued: 1 already sent, 2 pending." in page
    assert upload_states(outbox.all) == [
        UploadState.SENT,
        UploadState.PENDING,
        UploadState.PENDING,
        UploadState.PENDING,
    ]
    assert outbox.retrying.uploads.get().next_attempt_at == retry_at  # its backoff is untouched
    event = OrderEvent.objects.get(message__contains="re-queued")
    assert (event.order_id, event.kind, event.user.username) == (outbox.failed.order_id, EventKind.SHIPMENT, "admin")
    assert event.message == f"upload of shipment {outbox.failed.external_id} re-queued by admin"

    calls = uploads_on_sandbox(sandbox, "channeladvisor")
    assert run(outbox.channel, "shipments.upload").status == "ok"
    assert uploads_on_sandbox(sandbox, "channeladvisor") == calls + 2  # the re-sent one and the new one
    (found,) = on_channel(outbox.channel, outbox.failed.order)
    assert found.carrier == "UPS"
    assert len(on_channel(outbox.channel, outbox.sent.order)) == 1
    assert upload_states([outbox.failed, outbox.new]) == [UploadState.SENT, UploadState.SENT]
    run(outbox.channel, "shipments.upload")
    assert uploads_on_sandbox(sandbox, "channeladvisor") == calls + 2  # nothing twice


def test_confirm_with_nothing_failed_requeues_nothing(admin_client, outbox):
    page = resend(admin_client, [outbox.sent, outbox.new], confirm=True, follow=True).content.decode()
    assert "upload(s) re-queued" not in page and "Not re-queued: 1 already sent, 1 pending." in page
    assert upload_states([outbox.sent, outbox.new]) == [UploadState.SENT, UploadState.PENDING]


# Permissions and the order rules.


def test_a_person_who_is_not_staff_is_sent_to_the_login(client):
    client.force_login(UserFactory(is_staff=False))
    response = client.get(CHANGELIST)
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]


def test_a_user_who_may_only_view_shipments_sees_them_but_cannot_resend(client, outbox):
    client.force_login(staff("view_shipment", "view_order"))
    page = client.get(CHANGELIST).content.decode()
    assert outbox.failed.tracking_number in page and "Re-send failed uploads" not in page
    shipment_page = client.get(reverse("admin:orders_shipment_change", args=[outbox.failed.pk])).content.decode()
    assert outbox.failed.lines.get().order_line.channel_sku in shipment_page  # lines without their own permission
    resend(client, [outbox.failed], confirm=True)
    assert upload_states([outbox.failed]) == [UploadState.FAILED]


def test_the_upload_change_permission_shows_the_resend_action(client, outbox):
    client.force_login(staff("view_shipment", "change_shipmentupload"))
    assert "Re-send failed uploads" in client.get(CHANGELIST).content.decode()
    resend(client, [outbox.failed], confirm=True)
    assert upload_states([outbox.failed]) == [UploadState.PENDING]


def test_the_order_rules_choose_when_shipments_go_to_the_channel(admin_client):
    channel = ChannelFactory(slug="shop")
    data = {"channel": channel.pk, "submit_retry_days": 3, "shipment_upload": ShipmentUploadMode.COMPLETE}
    assert admin_client.post(reverse("admin:orders_orderrules_add"), data).status_code == 302
    assert OrderRules.objects.get(channel=channel).shipment_upload == ShipmentUploadMode.COMPLETE
    page = admin_client.get(reverse("admin:orders_orderrules_changelist")).content.decode()
    assert "Wait until the order is complete" in page
