"""`demo [--port N] [--no-server]`: a working registry in one command (docs/operations.md
"Management commands").

Migrates the database (the embedded SQLite unless DATABASE_URL says otherwise), seeds the demo
cohort if the registry is empty, scores it, prints the URL and the demo logins, and serves on
127.0.0.1. It lives in the top app because it drives every layer, scoring included.
"""

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from crf.demo.options import DEFAULT_PATIENTS, DEFAULT_SITES, positive_number
from crf.demo.sites import DATA_MANAGER_USERNAME, SITE_ROLE_PREFIXES
from registry.models import Membership, Patient, Site


def _port(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 65535:
        raise ValueError(text)
    return value


class Command(BaseCommand):
    help = (
        "Run the demo: migrate, seed a synthetic registry if it is empty, score it, print the "
        "URL and the demo logins, and serve on http://127.0.0.1:8000."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=_port, default=8000, help="Port to serve on (8000).")
        parser.add_argument(
            "--no-server", action="store_true", help="Stop after seeding and scoring; do not serve."
        )
        parser.add_argument(
            "--patients",
            type=positive_number,
            default=DEFAULT_PATIENTS,
            help=f"Patients to seed into an empty registry ({DEFAULT_PATIENTS}).",
        )
        parser.add_argument(
            "--sites",
            type=positive_number,
            default=DEFAULT_SITES,
            help=f"Sites to seed into an empty registry ({DEFAULT_SITES}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = options["verbosity"]
        self.stdout.write("Migrating the database…")
        call_command("migrate", interactive=False, verbosity=max(0, verbosity - 1))
        if Patient.objects.exists():
            self.stdout.write("The registry has data already: not seeding; scoring what is stale.")
            call_command("rescore", "--stale", verbosity=verbosity)
        else:
            self.stdout.write("Seeding the demo registry…")
            # Scoring is left to rescore, which scores everything once, with progress.
            call_command(
                "seed_demo",
                patients=options["patients"],
                sites=options["sites"],
                no_scoring=True,
                verbosity=verbosity,
            )
            self.stdout.write("Scoring…")
            call_command("rescore", "--all", verbosity=verbosity)
        self._print_logins(options["port"])
        if options["no_server"]:
            return
        if not settings.DEBUG:
            raise CommandError("The demo serves with Django's development server: set DEBUG=true.")
        # No autoreloader: it would start this command again in a child process (migrate, seed,
        # score) on every file change.
        call_command("runserver", f"127.0.0.1:{options['port']}", use_reloader=False)

    def _print_logins(self, port: int) -> None:
        url = f"http://127.0.0.1:{port}/"
        password = "demo" if settings.DEMO_PASSWORD == "demo" else "the value of DEMO_PASSWORD"
        sites = list(
            Site.objects.filter(memberships__user__username__startswith="coord-")
            .distinct()
            .order_by("code")
        )
        lines = [
            "",
            f"The registry:  {url}",
            f"The admin:     {url}admin/",
            f"The API docs:  {url}api/docs/",
            "",
            f"Demo logins (password: {password}):",
        ]
        if Membership.objects.filter(
            user__username=DATA_MANAGER_USERNAME, role=Membership.Role.DATA_MANAGER
        ).exists():
            lines.append(f"  {DATA_MANAGER_USERNAME:<13} data manager of every site, and the admin")
        if sites:
            labels = dict(Membership.Role.choices)
            for prefix, role in SITE_ROLE_PREFIXES:
                lines.append(f"  {prefix + '-xxx':<13} {labels[role]} of site XXX")
            lines.append("  where xxx is the site's code:")
            for site in sites[:12]:
                lines.append(f"    {site.code.lower():<6} {site.name} ({site.country})")
            if len(sites) > 12:
                lines.append(f"    … and {len(sites) - 12} more sites")
        self.stdout.write("\n".join(lines) + "\n")
