from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "Case pool and practice"

    def ready(self) -> None:
        from cases import receivers  # noqa: F401 - answers training's pool sample
