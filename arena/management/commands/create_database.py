from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from arena.databases import database_ensure, database_name


class Command(BaseCommand):
    help = (
        "Create the PostgreSQL database DATABASE_URL names if it does not exist yet (run before "
        "`migrate` on a new server; a SQLite file needs nothing)."
    )

    def handle(self, *args, **options):
        url = settings.DATABASE_URL
        name = database_name(url)
        if name is None:
            self.stdout.write("not PostgreSQL: nothing to create")
            return
        try:
            created = database_ensure(url)
        except Exception as exc:  # psycopg's errors name the server and the reason
            raise CommandError(f"cannot create database {name}: {exc}") from exc
        self.stdout.write(f"created database {name}" if created else f"database {name} exists")
