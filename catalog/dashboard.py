"""The catalog's part of the admin home: listings that match no item, or more than one."""

from django.urls import reverse

from catalog.models import ItemMapping, MappingStatus
from integrations.dashboard import Counter, register_counter


def _mappings_url(status: str) -> str:
    return f"{reverse('admin:catalog_itemmapping_changelist')}?status__exact={status}"


def mappings_count(status: str) -> int:
    return ItemMapping.objects.filter(status=status).count()


def register_panels() -> None:
    register_counter(
        Counter(
            "unmapped listings",
            "catalog.view_itemmapping",
            lambda: mappings_count(MappingStatus.UNMAPPED),
            lambda: _mappings_url(MappingStatus.UNMAPPED),
            30,
            "Channel listings that match no item: no stock is pushed and their orders are held",
        )
    )
    register_counter(
        Counter(
            "conflicting listings",
            "catalog.view_itemmapping",
            lambda: mappings_count(MappingStatus.CONFLICT),
            lambda: _mappings_url(MappingStatus.CONFLICT),
            31,
            "Listings that match more than one item: choose one",
        )
    )
