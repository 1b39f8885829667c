from django.core.management.base import BaseCommand, CommandError

from consensus.services import consensus_recompute
from teaching.models import Space


class Command(BaseCommand):
    help = "Recompute a space's contradictions from scratch (same result as the incremental)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("slug", nargs="?", help="the space (all spaces when left out)")

    def handle(self, *args, slug: str | None = None, **options) -> None:
        spaces = Space.objects.filter(slug=slug) if slug else Space.objects.all()
        if slug and not spaces.exists():
            raise CommandError(f"No space {slug!r}.")
        for space in spaces:
            count = consensus_recompute(space=space)
            self.stdout.write(f"{space.slug}: {count} contradictions")
