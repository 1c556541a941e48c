from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from arena.services.backups import BackupError, backup_import


class Command(BaseCommand):
    help = "Restore an export_all directory into an empty (migrated) database. All or nothing."

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path)

    def handle(self, *args, directory, **options):
        try:
            summary = backup_import(directory=directory)
        except BackupError as exc:
            raise CommandError(f"{exc} — nothing was restored.") from exc
        self.stdout.write(f"Restored {summary.total} rows into {len(summary.rows)} tables from {directory}")
