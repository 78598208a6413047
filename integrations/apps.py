from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from integrations import lookups, signals  # noqa: F401  (`__among`; channel changes keep schedules in step)
        from integrations.dashboard import register_integrations_panels
        from integrations.flows import ANY_ROLE, Flow, register
        from integrations.health import PING, PING_INTERVAL, ping

        # Domain apps register their flows in their own ready(); the health check belongs to integrations and
        # needs no capability: every connector answers test_connection().
        register(Flow(PING, ANY_ROLE, None, ping, interval=PING_INTERVAL, label="Health check"))
        register_integrations_panels()
