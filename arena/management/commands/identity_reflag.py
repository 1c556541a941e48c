"""Check every stored answer again with the identity filter (see arena.services.identity)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from arena.services.identity import answers_identity_reflag


class Command(BaseCommand):
    help = (
        "Check every answer again for model or vendor names as a rater would read them (after an upgrade "
        "of the filter or a change of ARENA_IDENTITY_WORDS) and store the flags that changed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Only report what would change.")
        parser.add_argument(
            "--clear",
            action="store_true",
            help="Also unflag answers the filter no longer flags (flags set by hand are lost).",
        )

    def handle(self, *args: object, dry_run: bool, clear: bool, **options: object) -> None:
        result = answers_identity_reflag(dry_run=dry_run, clear=clear)
        self.stdout.write(("Dry run: " if dry_run else "") + result.summary())
