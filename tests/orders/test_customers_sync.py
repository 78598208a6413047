"""customers.upload to NuORDER over HTTP: new vs existing by external id, several addresses, only what changed."""

import logging

import pytest

from catalog.models import ChannelUpload, UploadKind
from integrations.flows import RunReport
from integrations.models import SyncRun
from integrations.runner import flow_run
from orders.customers_sync import FLOW, customers_upload_flow
from tests.factories import ChannelFactory
from tests.orders.factories import ADDRESS, CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db
UPSERT = r"^/api/company/new/force$"
WAREHOUSE = {**ADDRESS, "name": "Receiving", "line1": "9 Dock Rd", "city": "Raleigh", "postal_code": "27601"}


@pytest.fixture
def oms(sandbox_channel):
    return sandbox_channel("oms")


@pytest.fixture
def nuorder(sandbox_channel, oms):
    return sandbox_channel("nuorder", fulfillment=oms)


@pytest.fixture
def shop(oms):
    """Another sales channel sending its orders to the same fulfillment system."""
    return ChannelFactory(slug="shop", fulfillment=oms)


@pytest.fixture
def api(sandbox):
    return sandbox.api("nuorder")


def upload(channel, **kwargs) -> RunReport:
    report = RunReport(flow=FLOW, dry_run=kwargs.get("dry_run", False))
    customers_upload_flow(channel, report=report, **kwargs)
    return report


def company(api, customer):
    return api.companies[customer.code or f"{customer.channel_id}:{customer.external_id}"]


def test_new_customers_become_companies_with_their_ids_in_the_ledger(nuorder, shop, api):
    customer = CustomerFactory(channel=shop, external_id="C-1", name="Corner Shop", code="CORNER")

    report = upload(nuorder)

    assert (report.seen, report.created, report.updated) == (1, 1, 0)
    sent = company(api, customer)
    assert (sent["name"], sent["external_id"], sent["currency_code"]) == ("Corner Shop", f"{shop.pk}:C-1", "USD")
    assert sent["discount"] == 0
    ledger = ChannelUpload.objects.get(channel=nuorder, kind=UploadKind.CUSTOMER)
    assert (ledger.key, ledger.channel_ref) == (f"{shop.pk}:C-1", sent["_id"])


def test_several_billing_and_shipping_addresses_are_sent(nuorder, shop, api):
    customer = CustomerFactory(channel=shop, code="MULTI", shipping_address=[ADDRESS, WAREHOUSE])
    OrderFactory(channel=shop, customer=customer, ship_to={**WAREHOUSE, "line1": "77 Store Ave"})
    OrderFactory(channel=shop, customer=customer, bill_to={**ADDRESS, "line1": "1 Billing Way"})

    upload(nuorder)

    addresses = company(api, customer)["addresses"]
    billing = [a["line_1"] for a in addresses if a["type"] == "billing"]
    shipping = [a["line_1"] for a in addresses if a["type"] == "shipping"]
    assert billing == ["1 Main St", "1 Billing Way"]
    assert shipping == ["1 Main St", "77 Store Ave", "9 Dock Rd"]


def test_a_second_upload_with_nothing_changed_sends_nothing(nuorder, shop, api):
    CustomerFactory.create_batch(3, channel=shop)
    upload(nuorder)
    api.calls.clear()

    report = upload(nuorder)

    assert api.calls_to("PUT", UPSERT) == 0
    assert (report.seen, report.skipped, report.created, report.updated) == (3, 3, 0, 0)


def test_a_changed_customer_is_sent_again_as_existing(nuorder, shop, api):
    customer, _ = CustomerFactory.create_batch(2, channel=shop)
    upload(nuorder)
    api.calls.clear()
    OrderFactory(channel=shop, customer=customer, ship_to=WAREHOUSE)  # a new shipping address

    report = upload(nuorder)

    assert (report.created, report.updated, api.calls_to("PUT", UPSERT)) == (0, 1, 1)
    assert "9 Dock Rd" in [a["line_1"] for a in company(api, customer)["addresses"]]


def test_nuorders_own_retailers_and_other_fulfillment_systems_customers_stay_home(nuorder, shop, api):
    CustomerFactory(channel=nuorder)
    elsewhere = ChannelFactory(slug="elsewhere", fulfillment=ChannelFactory(slug="other-oms", role="fulfillment"))
    CustomerFactory(channel=elsewhere)
    kept = CustomerFactory(channel=shop)

    report = upload(nuorder)

    assert report.seen == 1
    assert ChannelUpload.objects.get(kind=UploadKind.CUSTOMER).key == f"{shop.pk}:{kept.external_id}"


def test_a_refused_customer_goes_to_the_issue_queue_and_is_tried_again(nuorder, shop, api):
    CustomerFactory(channel=shop)
    api.inject("status", status=400, path="/api/company/new/force")

    run = flow_run(channel=nuorder, flow=FLOW, trigger=SyncRun.Trigger.MANUAL)

    assert (run.status, run.failed) == (SyncRun.Status.PARTIAL, 1)
    assert not ChannelUpload.objects.exists()
    run = flow_run(channel=nuorder, flow=FLOW, trigger=SyncRun.Trigger.MANUAL)
    assert (run.status, run.created) == (SyncRun.Status.OK, 1)


def test_dry_run_sends_nothing(nuorder, shop, api):
    CustomerFactory(channel=shop)

    report = upload(nuorder, dry_run=True)

    assert report.created == 1 and api.calls_to("PUT", UPSERT) == 0
    assert report.lines == [f"create customer {shop.pk}:{shop.customers.get().external_id}"]


def test_credentials_stay_out_of_debug_logs(nuorder, shop, caplog):
    CustomerFactory(channel=shop)

    with caplog.at_level(logging.DEBUG):
        upload(nuorder)

    assert caplog.text
    for secret in nuorder.credentials.values():
        assert secret not in caplog.text
