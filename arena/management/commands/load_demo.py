from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from arena.imports.rows import ImportFormatError
from arena.models import Answer, Contender, ImportedVerdict, Prompt
from arena.services.demo import demo_load, demo_user_ensure


class Command(BaseCommand):
    help = "Load the prompt sets and the shipped real answers and verdicts, and create the demo login. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--quiet", action="store_true", help="Only print the totals and the login.")
        parser.add_argument(
            "--allow-in-production", action="store_true",
            help="Load the demo even with DJANGO_DEBUG=0. The demo superuser then gets a random password, "
                 "printed once.",
        )

    def handle(self, *args, quiet, allow_in_production, **options):
        production = settings.PRODUCTION
        if production and not allow_in_production:
            raise CommandError(
                "load_demo creates a superuser and refuses to run in production mode (DJANGO_DEBUG=0). "
                "Pass --allow-in-production to load the demo anyway: its login then gets a random password, "
                "printed once."
            )
        try:
            demo_load(report=(lambda line: None) if quiet else self.stdout.write)
        except ImportFormatError as exc:
            raise CommandError(str(exc)) from exc
        login = demo_user_ensure(production=production)
        self.stdout.write(
            f"Demo data: {Prompt.objects.count()} prompts, {Contender.objects.count()} contenders, "
            f"{Answer.objects.count()} answers, {ImportedVerdict.objects.count()} imported verdicts."
        )
        if not production:
            self.stdout.write(self.style.SUCCESS(
                f"Demo login: username '{login.username}', password '{login.password}' (staff). "
                "This published password is for debug mode (make demo) only."
            ))
        elif login.password:
            self.stdout.write(self.style.SUCCESS(
                f"Demo login: username '{login.username}', password '{login.password}' (superuser). "
                "It is shown this once: keep it, or set another with `manage.py changepassword demo`."
            ))
        else:
            self.stdout.write(
                f"Demo login '{login.username}' exists and keeps its password (printed when it was made; "
                "`manage.py changepassword demo` sets a new one)."
            )
