"""ChannelAdvisor products against the sandbox over HTTP: listings with attributes, images, labels and
other identifiers, the UpdateDateUtc window, products refetched when an expanded collection is cut, and
product IDs by exact SKU."""

from datetime import datetime


def test_listings_download_returns_every_product(connect, ca, sandbox):
    listings = list(connect().listings_download(since=None))

    assert [(lst.sku, lst.product_id) for lst in listings] == [
        (p["Sku"], str(pid)) for pid, p in sorted(ca.products.items())
    ]
    assert {lst.sku for lst in listings} >= {w.sku for w in sandbox.world.listings}


def test_listing_carries_attributes_images_labels_and_identifiers(connect, ca):
    listing = next(lst for lst in connect().listings_download(since=None) if lst.sku == "1001-RED-X-S")

    assert (listing.upc, listing.title) == ("400000000001", "Style 1001 Red S")
    assert listing.data["attributes"] == {"Color": "RED", "Size": "S", "Style": "1001"}
    assert listing.data["images"] == ["https://images.example.com/1001-RED-X-S.jpg"]
    assert listing.data["labels"] == ["Switchyard"]
    assert listing.data["aliases"] == ["MPN-1001-RED-X-S"]
    assert listing.updated_at is not None


def test_listings_download_since_keeps_to_recent_products(connect, ca):
    since = ca.advance()
    added = ca.add_product("NEW-1", UPC="499999999999")

    listings = list(connect().listings_download(since=since))

    assert [(lst.sku, lst.product_id, lst.upc) for lst in listings] == [("NEW-1", str(added["ID"]), "499999999999")]


def test_product_with_more_than_20_attributes_is_fetched_whole(connect, ca):
    product = ca.add_product("MANY-ATTRS")
    product["Attributes"] = [
        {"ProductID": product["ID"], "ProfileID": product["ProfileID"], "Name": f"A{n}", "Value": str(n)}
        for n in range(30)
    ]

    (listing,) = [lst for lst in connect().listings_download(since=None) if lst.sku == "MANY-ATTRS"]

    assert len(listing.data["attributes"]) == 30
    assert ca.calls_to("GET", rf"^/v1/Products\({product['ID']}\)$") == 1


def test_product_ids_for_sku_matches_case_sensitively(connect, ca):
    ca.add_product("kit1")

    connector = connect()

    assert connector.product_ids_for_sku("KIT1") == [str(ca.product_id("KIT1"))]
    assert connector.product_ids_for_sku("kit1") == [str(ca.product_id("kit1"))]
    assert connector.product_ids_for_sku("Kit1") == []


def test_product_ids_for_sku_quotes_apostrophes(connect, ca):
    added = ca.add_product("O'NEIL-1")

    assert connect().product_ids_for_sku("O'NEIL-1") == [str(added["ID"])]


def test_listing_dates_are_utc(connect):
    listing = next(iter(connect().listings_download(since=None)))

    assert isinstance(listing.updated_at, datetime) and listing.updated_at.utcoffset().total_seconds() == 0
