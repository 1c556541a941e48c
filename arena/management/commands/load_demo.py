from django.core.management.base import BaseCommand, CommandError

from arena.imports.rows import ImportFormatError
from arena.models import Answer, Contender, ImportedVerdict, Prompt
from arena.services.demo import demo_load, demo_user_ensure


class Command(BaseCommand):
    help = "Load the prompt sets and the shipped real answers and verdicts, and create the demo login. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--quiet", action="store_true", help="Only print the totals and the login.")

    def handle(self, *args, quiet, **options):
        try:
            demo_load(report=(lambda line: None) if quiet else self.stdout.write)
        except ImportFormatError as exc:
            raise CommandError(str(exc)) from exc
        username, password = demo_user_ensure()
        self.stdout.write(
            f"Demo data: {Prompt.objects.count()} prompts, {Contender.objects.count()} contenders, "
            f"{Answer.objects.count()} answers, {ImportedVerdict.objects.count()} imported verdicts."
        )
        self.stdout.write(self.style.SUCCESS(f"Demo login: username '{username}', password '{password}' (staff)."))
