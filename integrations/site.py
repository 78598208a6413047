"""Switchyard's admin site: the stock AdminSite with its name on it and the dashboard as its index.

`SwitchyardAdminConfig` is installed in place of django.contrib.admin (config/settings.py), so every
`admin.register` lands on this site. The module is imported while apps load: it imports no model at the top.
"""

from typing import Any

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest
from django.template.response import TemplateResponse


class SwitchyardAdminSite(AdminSite):
    site_header = "Switchyard"
    site_title = "Switchyard"
    index_title = "Dashboard"
    index_template = "admin/dashboard.html"

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> TemplateResponse:
        from integrations.dashboard import dashboard_context

        # admin_view() has already refused anyone who is not active staff; the context holds only what the
        # user's view permissions open.
        return super().index(request, {**dashboard_context(request), **(extra_context or {})})


class SwitchyardAdminConfig(AdminConfig):
    default_site = "integrations.site.SwitchyardAdminSite"
