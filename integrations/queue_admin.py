"""django-q2's task-queue screens, re-registered with the permissions a deployment needs.

A Schedule's `func` is any importable callable and its args are evaluated on the workers: adding or editing
one is code execution, and so is resubmitting a stored task. Only superusers may do either, and the sync
schedules that integrations/schedules.py keeps in step with the channels are read-only for everyone.
"""

import django_q.admin as q_admin  # registers django-q2's own classes, replaced below
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django_q.models import Failure, OrmQ, Schedule, Success

from integrations.schedules import schedule_channel_id, schedule_is_managed


def _superuser(request: HttpRequest) -> bool:
    return request.user.is_active and request.user.is_superuser


def owner_note(schedule: Schedule) -> str:
    """The note on a managed schedule's page, linking to the channel whose settings own it."""
    channel_id = schedule_channel_id(schedule)
    link = reverse("admin:integrations_channel_change", args=[channel_id]) if channel_id else ""
    where = format_html("<a href='{}'>the channel's flow settings</a>", link) if link else "the channel's settings"
    return format_html(
        "Switchyard owns this schedule and keeps it in step with its channel: it is read-only here. "
        "To change when or whether it runs, change {} instead.",
        where,
    )


class ScheduleAdmin(q_admin.ScheduleAdmin):
    list_display = (*q_admin.ScheduleAdmin.list_display, "owner")

    @admin.display(description="owner")
    def owner(self, schedule: Schedule) -> str:
        return "Switchyard (channel settings)" if schedule_is_managed(schedule) else "-"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _superuser(request)

    def has_change_permission(self, request: HttpRequest, obj: Schedule | None = None) -> bool:
        return _superuser(request) and not (obj is not None and schedule_is_managed(obj))

    def has_delete_permission(self, request: HttpRequest, obj: Schedule | None = None) -> bool:
        # A deleted sync schedule would come back at the channel's next save: delete the flow there instead.
        return self.has_change_permission(request, obj)

    def get_fieldsets(self, request: HttpRequest, obj: Schedule | None = None) -> list:
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and schedule_is_managed(obj):
            name, options = fieldsets[0]
            fieldsets = [(name, {**options, "description": owner_note(obj)}), *fieldsets[1:]]
        return fieldsets


class ResubmitMixin(admin.ModelAdmin):
    """Resubmitting a stored task runs its func with its args again: superusers only."""

    actions = ["resubmit"]

    def has_resubmit_permission(self, request: HttpRequest) -> bool:
        return _superuser(request)

    @admin.action(description="Resubmit selected tasks to queue", permissions=["resubmit"])
    def resubmit(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = queryset.count()
        q_admin.resubmit_task(self, request, queryset)
        self.message_user(request, f"{count} task(s) resubmitted.", messages.SUCCESS)


class TaskAdmin(ResubmitMixin, q_admin.TaskAdmin):
    pass


class FailAdmin(ResubmitMixin, q_admin.FailAdmin):
    pass


class QueueAdmin(q_admin.QueueAdmin):
    """A queued task's key and lock are editable in django-q2's screen: changing them reroutes work."""

    def has_change_permission(self, request: HttpRequest, obj: OrmQ | None = None) -> bool:
        return _superuser(request)


def _replace(model: type, admin_class: type) -> None:
    if admin.site.is_registered(model):
        admin.site.unregister(model)
        admin.site.register(model, admin_class)


_replace(Schedule, ScheduleAdmin)
_replace(Success, TaskAdmin)
_replace(Failure, FailAdmin)
_replace(OrmQ, QueueAdmin)
