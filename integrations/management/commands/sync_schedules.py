from django.core.management.base import BaseCommand

from integrations.schedules import schedules_sync_all


class Command(BaseCommand):
    help = "Bring the django-q2 schedules in step with every channel's enabled flows and intervals."

    def handle(self, *args: str, **options) -> None:
        changes = schedules_sync_all()
        self.stdout.write(
            f"schedules: {changes.created} created, {changes.updated} re-timed, {changes.deleted} removed"
        )
