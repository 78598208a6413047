"""`field__among=values` (integrations.lookups): the rows `field__in=values` finds, on the column and through a
relation's id, and no query for an empty list."""

import pytest

from catalog.models import BundleComponent, Item

pytestmark = pytest.mark.django_db


def test_among_finds_what_in_finds() -> None:
    items = [Item.objects.create(sku=sku, item_number="N") for sku in ("A-1", "a-1", "B-2", "C-3")]
    wanted = ["A-1", "B-2", "Z-9", "B-2"]  # exact, case kept; a missing and a repeated key change nothing
    among = sorted(Item.objects.filter(sku__among=wanted).values_list("sku", flat=True))
    assert among == sorted(Item.objects.filter(sku__in=wanted).values_list("sku", flat=True)) == ["A-1", "B-2"]
    BundleComponent.objects.create(bundle=items[0], component=items[2], quantity=2)
    BundleComponent.objects.create(bundle=items[3], component=items[2], quantity=1)
    ids = [items[0].pk, items[1].pk]
    assert list(BundleComponent.objects.filter(bundle_id__among=ids).values_list("quantity", flat=True)) == [2]


def test_among_an_empty_list_matches_nothing_without_a_query(django_assert_num_queries) -> None:
    Item.objects.create(sku="A-1", item_number="N")
    with django_assert_num_queries(0):
        assert list(Item.objects.filter(sku__among=[])) == []
