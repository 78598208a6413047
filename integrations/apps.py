from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from integrations import signals  # noqa: F401  (channel changes keep schedules in step)
        from integrations.dashboard import register_integrations_panels
        from integrations.flows import register
        from integrations.health import PING, ping

        # Domain apps register their flows in their own ready(); the health check belongs to integrations.
        register(PING, ping)
        register_integrations_panels()
