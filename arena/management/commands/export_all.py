from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from arena.services.backups import BackupError, backup_export


class Command(BaseCommand):
    help = "Write every prompt set, answer, vote, judgment, judge (without secrets) and run as JSONL with a manifest."

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path)
        parser.add_argument(
            "--pseudonymise", action="store_true", help="Replace rater identities with pseudonyms."
        )

    def handle(self, *args, directory, pseudonymise, **options):
        try:
            summary = backup_export(directory=directory, pseudonymise=pseudonymise)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Exported {summary.total} rows from {len(summary.rows)} tables to {directory}")
