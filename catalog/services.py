"""The mapping screen's decisions: ignore, un-ignore, accept a suggestion, choose an item. Each is one
set-based UPDATE, whatever the number of listings."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Case, F, QuerySet, Value, When
from django.db.models.functions import Concat
from django.utils import timezone

from catalog.models import Item, ItemMapping, MappingMethod, MappingStatus


def mapping_ignore(*, mappings: QuerySet[ItemMapping]) -> int:
    """Ignore listings: no stock is pushed for them and auto-mapping leaves them as they are."""
    return mappings.exclude(status=MappingStatus.IGNORED).update(
        status=MappingStatus.IGNORED, updated_at=timezone.now()
    )


def mapping_unignore(*, mappings: QuerySet[ItemMapping]) -> int:
    """Take listings back from ignored: mapped when they still have an item, unmapped otherwise."""
    return mappings.filter(status=MappingStatus.IGNORED).update(
        status=Case(
            When(item__isnull=False, then=Value(MappingStatus.MAPPED)),
            default=Value(MappingStatus.UNMAPPED),
        ),
        updated_at=timezone.now(),
    )


def mapping_accept_suggestion(*, mappings: QuerySet[ItemMapping], user: AbstractBaseUser | AnonymousUser) -> int:
    """Map listings to auto-mapping's suggestion (an active item). A person accepted it, so the mapping
    becomes manual and later auto-mapping keeps it."""
    return mappings.filter(suggested_item__isnull=False, suggested_item__active=True).update(
        item=F("suggested_item"),
        suggested_item=None,
        status=Case(
            When(status=MappingStatus.IGNORED, then=Value(MappingStatus.IGNORED)),
            default=Value(MappingStatus.MAPPED),
        ),
        method=MappingMethod.MANUAL,
        note=Concat(Value(f"Accepted by {user}. "), F("note")),
        updated_at=timezone.now(),
    )


def mapping_choose_item(
    *, mapping: ItemMapping, item: Item | None, user: AbstractBaseUser | AnonymousUser
) -> ItemMapping:
    """A person chooses the item of one listing (or clears it); an ignored listing stays ignored."""
    mapping.item = item
    mapping.suggested_item = None
    if item is None:
        mapping.method = ""
        mapping.note = f"Unmapped by {user}"
        if mapping.status != MappingStatus.IGNORED:
            mapping.status = MappingStatus.UNMAPPED
    else:
        mapping.method = MappingMethod.MANUAL
        mapping.note = f"Chosen by {user}"
        if mapping.status != MappingStatus.IGNORED:
            mapping.status = MappingStatus.MAPPED
    mapping.save()
    return mapping
