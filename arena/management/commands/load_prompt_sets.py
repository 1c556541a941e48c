from django.core.management.base import BaseCommand

from arena.services.prompt_sets import BUNDLED, prompt_sets_load_bundled


class Command(BaseCommand):
    help = "Load (or refresh) the bundled prompt sets: vicuna80, mt_bench, user_oriented_252. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument(
            "slugs",
            nargs="*",
            choices=[s.slug for s in BUNDLED] + [[]],
            metavar="SLUG",
            help="Only these sets (default: all).",
        )

    def handle(self, *args, slugs, **options):
        for result in prompt_sets_load_bundled(slugs or None):
            self.stdout.write(
                f"{result.slug}: {result.prompts} prompts ({result.created} created, {result.updated} updated)"
            )
