from django.apps import AppConfig


class TeachingConfig(AppConfig):
    name = "teaching"

    def ready(self) -> None:
        from mola import sweeper
        from teaching import receivers  # noqa: F401 - connects the serving notices
        from teaching.services import outbox

        # The workers' sweep sends the outbox's overdue work again; /healthz reports it.
        sweeper.register(sweep=outbox.sweep, backlog=outbox.backlog)
