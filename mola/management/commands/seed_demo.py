from django.core.management.base import BaseCommand

from mola.demo import seed_demo


class Command(BaseCommand):
    help = "Create (or complete) the demo community. Running it twice changes nothing."

    def handle(self, *args, **options) -> None:
        summary = seed_demo()
        self.stdout.write(f"Demo community ready: {summary}")
