"""`manage.py rotate_encryption_keys`: re-encrypt every stored secret with the first FIELD_ENCRYPTION_KEY."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from integrations.encryption import encrypted_values_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted field (channel credentials and any other stored secret) with the first key of "
        "FIELD_ENCRYPTION_KEY. Put the new key first, keep the old ones after it, restart every process, run this, "
        "then drop the old keys. Exit status 1 if some value cannot be decrypted with any configured key."
    )

    def handle(self, *args, **options) -> None:
        counts = encrypted_values_rotate()
        for count in counts:
            line = f"{count.label}: {count.rotated} re-encrypted, {count.current} already under the newest key"
            if count.undecryptable:
                line += (
                    f", {len(count.undecryptable)} cannot be decrypted (ids {', '.join(map(str, count.undecryptable))})"
                )
            self.stdout.write(line)
        rotated = sum(count.rotated for count in counts)
        stuck = sum(len(count.undecryptable) for count in counts)
        self.stdout.write(f"{rotated} value(s) re-encrypted with key 1 of {len(settings.FIELD_ENCRYPTION_KEYS)}.")
        if stuck:
            raise CommandError(
                f"{stuck} value(s) cannot be decrypted with any FIELD_ENCRYPTION_KEY: re-enter them "
                "(a channel's credentials on its page), or add the key they were saved with and run this again."
            )
        if len(settings.FIELD_ENCRYPTION_KEYS) > 1:
            self.stdout.write("Every value is under the newest key: the older keys can now be removed.")
