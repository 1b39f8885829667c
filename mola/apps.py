from django.apps import AppConfig


class MolaConfig(AppConfig):
    name = "mola"
    verbose_name = "MOLA"

    def ready(self) -> None:
        from mola.api import schema  # noqa: F401 - registers the OpenAPI extensions
