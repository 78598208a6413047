"""Every model of the project's apps has a factory, and each factory makes a row its model accepts."""

import inspect

import factory
import pytest
from django.apps import apps

from tests import factories
from tests.inventory import factories as inventory_factories
from tests.orders import factories as orders_factories

APPS = ("catalog", "integrations", "inventory", "orders")


def model_factories() -> list[type[factory.django.DjangoModelFactory]]:
    found = []
    for module in (factories, inventory_factories, orders_factories):
        for _, member in inspect.getmembers(module, inspect.isclass):
            if issubclass(member, factory.django.DjangoModelFactory) and member._meta.model is not None:
                found.append(member)
    return sorted(set(found), key=lambda f: f.__name__)


def test_every_model_has_a_factory():
    models = {model for model in apps.get_models() if model._meta.app_label in APPS}
    covered = {f._meta.model for f in model_factories()}
    assert sorted(model.__name__ for model in models - covered) == []


@pytest.mark.django_db
@pytest.mark.parametrize("model_factory", model_factories(), ids=lambda f: f.__name__)
def test_the_factory_makes_a_row_that_passes_the_models_validation(model_factory):
    row = model_factory()

    row.full_clean()  # fields, choices and the model's constraints

    assert type(row).objects.filter(pk=row.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("model_factory", model_factories(), ids=lambda f: f.__name__)
def test_every_model_reads_as_words_not_database_ids(model_factory):
    """No `2:1001-RED-X`, `to 4:`, `58 x 2` or `@11`: a row's label never shows a primary or foreign key."""
    row = model_factory()
    fields = row._meta.concrete_fields
    keys = {str(getattr(row, f.attname)) for f in fields if f.primary_key or f.is_relation}
    values = {str(getattr(row, f.attname)) for f in fields if not (f.primary_key or f.is_relation)}
    keys -= values  # a quantity of 1 next to row 1 is a quantity

    text = str(row)
    for f in fields:  # a related row's own label ("Channel 1") is tested as that row's
        if f.is_relation and getattr(row, f.name) is not None:
            text = text.replace(str(getattr(row, f.name)), " ")
    words = text.replace(":", " ").replace("@", " ").replace(",", " ").split()

    assert not keys & set(words), f"{model_factory.__name__}: {row}"
    assert "@" not in str(row)
