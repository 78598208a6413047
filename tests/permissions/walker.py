"""Enumerates every URL the project serves and every admin action, and says whether a request was let through.

URLs come from the URLconf (django.urls resolver) and, for each ModelAdmin, from its get_urls(); actions from
each ModelAdmin's get_actions() as a superuser sees them (the most any role can see).
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass

from django.contrib import admin
from django.db.models import Model
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse

PARAM = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>")


@dataclass(frozen=True)
class Endpoint:
    key: str  # the URL's namespaced name, or its full route when it has none
    route: str
    name: str | None
    model_admin: admin.ModelAdmin | None
    suffix: str  # the ModelAdmin's own route ("<path:object_id>/change/"), or "" for a site URL

    @property
    def params(self) -> list[str]:
        return [a or b for a, b in PARAM.findall(self.route)]


def _leaves(resolver: URLResolver, namespace: str = "", prefix: str = "") -> Iterator[tuple[str | None, str]]:
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _leaves(pattern, inner, route)
        elif isinstance(pattern, URLPattern):
            yield (f"{namespace}{pattern.name}" if pattern.name else None), route


def model_admin_urls() -> dict[str, tuple[admin.ModelAdmin, str]]:
    """{endpoint key: (its ModelAdmin, its route inside the ModelAdmin)} from each ModelAdmin's get_urls()."""
    found = {}
    for model, model_admin in admin.site._registry.items():
        base = f"admin/{model._meta.app_label}/{model._meta.model_name}/"
        for pattern in model_admin.get_urls():
            suffix = str(pattern.pattern)
            found[f"admin:{pattern.name}" if pattern.name else base + suffix] = (model_admin, suffix)
    return found


def endpoints() -> list[Endpoint]:
    """Every URL of the URLconf, tied to the ModelAdmin that serves it when there is one."""
    owners = model_admin_urls()
    result = []
    for name, route in _leaves(get_resolver()):
        key = name or route
        model_admin, suffix = owners.get(key, (None, ""))
        result.append(Endpoint(key, route, name, model_admin, suffix))
    missing = set(owners) - {e.key for e in result}
    assert not missing, f"ModelAdmin URLs the URLconf does not serve: {sorted(missing)}"
    return result


def model_label(model: type[Model]) -> str:
    return f"{model._meta.app_label}.{model._meta.model_name}"


def actions(superuser) -> dict[str, list[str]]:
    """{model label: action names} as a superuser sees them."""
    request = RequestFactory().get("/admin/")
    request.user = superuser
    return {
        model_label(model): sorted(model_admin.get_actions(request))
        for model, model_admin in admin.site._registry.items()
    }


def build_url(endpoint: Endpoint, values: dict[str, object]) -> str:
    """The endpoint's URL with each parameter taken from `values` (a KeyError names a parameter to add)."""
    kwargs = {param: values[param] for param in endpoint.params}
    if endpoint.name:
        return reverse(endpoint.name, kwargs=kwargs)
    if endpoint.route.endswith("(?P<url>.*)$"):
        return f"/admin/{kwargs['url']}"
    path = endpoint.route
    for param, value in kwargs.items():
        path = re.sub(rf"<(?:\w+:)?{param}>", str(value), path)
    return "/" + path


def let_through(response: HttpResponse) -> bool:
    """True when the request got what it asked for: a page, a file or a redirect that is not to the login page.
    A 403, a 404 (an app page with nothing the user may see), a 405 or a login redirect
    is a refusal; any other status is a bug the walk reports."""
    if response.status_code in (403, 404, 405):
        return False
    if response.status_code in (301, 302) and "/login/" in response.get("Location", ""):
        return False
    assert response.status_code < 400, f"unexpected status {response.status_code}"
    return True


def action_ran(response: HttpResponse) -> bool:
    """True when a posted action ran: its own page or its redirect. Django answers an action the user may not
    use with the list itself (no action offered) or a redirect saying "No action selected."."""
    if not let_through(response):
        return False
    if "cl" in (getattr(response, "context_data", None) or {}):
        return False  # the change list again: the action was not run
    queued = getattr(response.wsgi_request, "_messages", None)
    return "No action selected." not in {str(m) for m in getattr(queued, "_queued_messages", [])}
