"""Keeps django-q2 schedules in step with channels (see integrations/schedules.py)."""
