from django.apps import AppConfig


class TeachingConfig(AppConfig):
    name = "teaching"

    def ready(self) -> None:
        from mola import sweeper
        from teaching import receivers  # noqa: F401 - connects the serving notices
        from teaching.services import outbox, retention

        # The workers' sweep sends the outbox's overdue work again; /healthz reports it.
        sweeper.register(sweep=outbox.sweep, backlog=outbox.backlog)
        # And prunes model versions past each space's newest MODEL_VERSIONS_KEPT.
        sweeper.register(sweep=retention.sweep, backlog=retention.backlog)
