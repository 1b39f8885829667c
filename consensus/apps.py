from django.apps import AppConfig


class ConsensusConfig(AppConfig):
    name = "consensus"

    def ready(self) -> None:
        from consensus import receivers  # noqa: F401 - connects the listeners
