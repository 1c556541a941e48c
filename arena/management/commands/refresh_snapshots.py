from django.core.management.base import BaseCommand, CommandError

from arena.params import ParamError
from reports.services.snapshots import snapshot_refresh, snapshots_refresh_all


class Command(BaseCommand):
    help = "Recompute stored rating snapshots now (all of them, or the given keys)."

    def add_arguments(self, parser):
        parser.add_argument(
            "keys", nargs="*", help="Snapshot keys, e.g. 'leaderboard?method=bt&source=human'."
        )

    def handle(self, *args, keys, **options):
        try:
            done = [snapshot_refresh(key=k).key for k in keys] if keys else snapshots_refresh_all()
        except ParamError as exc:
            raise CommandError(exc.command_message()) from exc
        for key in done:
            self.stdout.write(f"refreshed {key}")
        self.stdout.write(self.style.SUCCESS(f"{len(done)} snapshot(s) refreshed"))
