#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    from config.env import ConfigurationRefused

    try:
        execute_from_command_line(sys.argv)
    except ConfigurationRefused as exc:
        # An unsafe or unreadable environment: the reason on one line, not a traceback to dig it out of.
        sys.exit(f"Switchyard refuses to start: {exc}")
