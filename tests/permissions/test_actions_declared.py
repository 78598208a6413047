"""Every admin action says which permission it needs (`@admin.action(permissions=[...])`): Django then offers it
only to users who hold that permission and refuses a forged POST from anyone else, select_across included. The
walk (test_walk.py) proves each action's effect per role; this names an action that forgot to declare."""

from django.contrib import admin
from django.test import RequestFactory

from tests.orders.factories import UserFactory


def test_every_action_of_every_admin_declares_its_permissions(db):
    request = RequestFactory().get("/")
    request.user = UserFactory(is_staff=True, is_superuser=True)
    undeclared = [
        f"{model._meta.label}.{name}"
        for model, model_admin in admin.site._registry.items()
        for name, (func, _, _) in model_admin.get_actions(request).items()
        if not getattr(func, "allowed_permissions", None)
    ]
    assert undeclared == []
