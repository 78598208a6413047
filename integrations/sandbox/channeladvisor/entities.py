"""Fresh ChannelAdvisor entities with every field the API reports, in CA's own field names."""

from datetime import datetime, timedelta
from typing import Any

from integrations.sandbox.channeladvisor.odata import format_date
from integrations.sandbox.seed import EPOCH, World

PROFILE_ID = 12345678
DC_IDS = {"MAIN": 11, "EAST": 12, "FBA": 13}
DELETED_DC_ID = 19


def order_shell(order_id: int, profile_id: int, site_order_id: str, now: datetime) -> dict:
    stamp = format_date(now)
    order: dict[str, Any] = {
        "ID": order_id,
        "ProfileID": profile_id,
        "SiteID": 640,
        "SiteName": "Amazon Seller Central - US",
        "SiteOrderID": site_order_id,
        "SecondarySiteOrderID": None,
        "SellerOrderID": None,
        "Currency": "USD",
        "CreatedDateUtc": stamp,
        "ImportDateUtc": stamp,
        "UpdatedDateUtc": stamp,
        "CheckoutDateUtc": stamp,
        "PaymentDateUtc": stamp,
        "ShippingDateUtc": None,
        "TotalPrice": 0.0,
        "TotalTaxPrice": 0.0,
        "TotalShippingPrice": 0.0,
        "RequestedShippingCarrier": "UPS",
        "RequestedShippingClass": "Ground",
        "PublicNotes": "",
        "PrivateNotes": "",
        "SpecialInstructions": "",
        "BuyerEmailAddress": "buyer@example.com",
        "OrderTags": "",
        "CheckoutStatus": "Completed",
        "PaymentStatus": "Cleared",
        "ShippingStatus": "Unshipped",
        "DistributionCenterTypeRollup": "SellerManaged",
    }
    for prefix in ("Shipping", "Billing"):
        for name in ("Title", "FirstName", "LastName", "CompanyName", "DaytimePhone", "AddressLine2"):
            order[f"{prefix}{name}"] = ""
        order |= {f"{prefix}FirstName": "Sandbox", f"{prefix}LastName": "Buyer", f"{prefix}AddressLine1": "1 Main St"}
        order |= {f"{prefix}City": "Durham", f"{prefix}StateOrProvince": "NC", f"{prefix}PostalCode": "27701"}
        order[f"{prefix}Country"] = "US"
    return order | {"Items": [], "Fulfillments": [], "Adjustments": [], "CustomFields": [], "OrderAttributes": []}


def fulfillment_shell(fulfillment_id: int, order: dict, dc_id: int, stamp: str) -> dict:
    return {
        "ID": fulfillment_id,
        "ProfileID": order["ProfileID"],
        "OrderID": order["ID"],
        "CreatedDateUtc": stamp,
        "UpdatedDateUtc": stamp,
        "Type": "Ship",
        "DeliveryStatus": "NoChange",
        "TrackingNumber": None,
        "ShippingCarrier": None,
        "ShippingClass": None,
        "DistributionCenterID": dc_id,
        "ExternalFulfillmentCenterCode": None,
        "ShippedDateUtc": None,
        "SellerFulfillmentID": None,
        "Items": [],
    }


def product_shell(product_id: int, sku: str, title: str, stamp: datetime) -> dict:
    when = format_date(stamp)
    return {
        "ID": product_id,
        "ProfileID": PROFILE_ID,
        "Sku": sku,
        "Title": title,
        "Brand": "",
        "UPC": "",
        "EAN": None,
        "MPN": f"MPN-{sku}",
        "ASIN": None,
        "Description": title,
        "CreateDateUtc": when,
        "UpdateDateUtc": when,
        "QuantityUpdateDateUtc": when,
        "IsParent": False,
        "IsInRelationship": False,
        "ParentProductID": None,
        "BundleType": "None",
        "RetailPrice": None,
        "Cost": None,
        "Classification": "Apparel",
        "PendingCheckoutQuantity": 0,
        "PendingPaymentQuantity": 0,
        "PendingShipmentQuantity": 0,
        "Attributes": [],
        "Images": [
            {"ProductID": product_id, "PlacementName": "ITEMIMAGEURL1", "Abbreviation": "IMG1"}
            | {"Url": f"https://images.example.com/{sku}.jpg"}
        ],
        "Labels": [{"ProductID": product_id, "Name": "Switchyard"}],
        "BundleComponents": [],
    }


def distribution_centers(world: World) -> list[dict]:
    names = dict(world.warehouses)
    rows = []
    for code, dc_id in [*DC_IDS.items(), ("OLD", DELETED_DC_ID)]:
        external = code == "FBA"
        rows.append(
            {
                "ID": dc_id,
                "ProfileID": PROFILE_ID,
                "Name": names.get(code, "Closed warehouse"),
                "Code": code,
                "Type": "ExternallyManaged" if external else "Warehouse",
                "IsExternallyManaged": external,
                "IsDeleted": code == "OLD",
                "DeletedDateUtc": format_date(EPOCH - timedelta(days=30)) if code == "OLD" else None,
                "Address1": "1 Warehouse Way",
                "City": "Durham",
                "StateOrProvince": "NC",
                "Country": "US",
                "PostalCode": "27701",
                "FulfillmentPartnerName": "Amazon" if external else None,
            }
        )
    return rows
