from django.core.management.base import BaseCommand

from mola.api_reference import REFERENCE, api_reference


class Command(BaseCommand):
    help = "Rewrite docs/api-reference.md from the OpenAPI schema."

    def handle(self, *args, **options) -> None:
        REFERENCE.write_text(api_reference())
        self.stdout.write(f"wrote {REFERENCE}")
