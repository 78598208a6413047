"""Admin URLs of the things alerts and issue pages point at; absolute ones start with SITE_URL."""

from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def run_url(run_id: int) -> str:
    return reverse("admin:integrations_syncrun_change", args=[run_id])


def runs_url(channel_id: int, flow: str) -> str:
    query = urlencode({"channel__id__exact": channel_id, "flow": flow})
    return f"{reverse('admin:integrations_syncrun_changelist')}?{query}"


def issue_url(issue_id: int) -> str:
    return reverse("admin:integrations_syncissue_change", args=[issue_id])


def issues_url(channel_id: int) -> str:
    query = urlencode({"channel__id__exact": channel_id, "status__exact": "open"})
    return f"{reverse('admin:integrations_syncissue_changelist')}?{query}"
