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
            "--stand-in-url",
            default="",
            help="Base URL of the tests' LLM server (tests/llm_server.py) standing in for real models: three "
            "stand-in contenders are made for live battles at /battle/ (make demo starts the server).",
        )
        parser.add_argument(
            "--allow-in-production",
            action="store_true",
            help="Load the demo even with DJANGO_DEBUG=0. The demo superuser then gets a random password, "
            "printed once.",
        )

    def handle(self, *args, quiet, allow_in_production, stand_in_url="", **options):
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
        if stand_in_url:
            from live.demo import stand_ins_ensure

            try:
                names = stand_ins_ensure(stand_in_url)
            except ValueError as exc:
                raise CommandError(f"--stand-in-url: {exc}") from exc
            self.stdout.write(
                f"Live battles: {len(names)} stand-in contenders ({', '.join(names)}) answered by "
                f"the tests' LLM server at {stand_in_url} - canned text, not real models."
            )
        login = demo_user_ensure(production=production)
        self.stdout.write(
            f"Demo data: {Prompt.objects.count()} prompts, {Contender.objects.count()} contenders, "
            f"{Answer.objects.count()} answers, {ImportedVerdict.objects.count()} imported verdicts."
        )
        if not production:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo login: username '{login.username}', password '{login.password}' (staff). "
                    "This published password is for debug mode (make demo) only."
                )
            )
        elif login.password:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo login: username '{login.username}', password '{login.password}' (superuser). "
                    "It is shown this once: keep it, or set another with `manage.py changepassword demo`."
                )
            )
        else:
            self.stdout.write(
                f"Demo login '{login.username}' exists and keeps its password (printed when it was made; "
                "`manage.py changepassword demo` sets a new one)."
            )
