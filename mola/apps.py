from django.apps import AppConfig


class MolaConfig(AppConfig):
    name = "mola"
    verbose_name = "MOLA"
