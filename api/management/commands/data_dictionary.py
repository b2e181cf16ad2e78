"""`data_dictionary [--check]`: write docs/data-dictionary.md from the code (api.data_dictionary),
or with --check exit 1 when the committed page is not what the code gives."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from api.data_dictionary import PATH, render


class Command(BaseCommand):
    help = "Write docs/data-dictionary.md from the code (--check: only say whether it is current)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check", action="store_true", help="Write nothing; exit 1 if the page is stale."
        )

    def handle(self, *args: Any, check: bool, **options: Any) -> None:
        text = render()
        current = PATH.read_text(encoding="utf-8") if PATH.exists() else None
        if check:
            if current != text:
                raise CommandError(
                    f"{PATH.name} is not what the code gives: run python manage.py data_dictionary"
                )
            self.stdout.write(f"{PATH.name} is current.")
            return
        if current == text:
            self.stdout.write(f"{PATH.name} is current; nothing written.")
            return
        PATH.write_text(text, encoding="utf-8")
        self.stdout.write(f"Wrote {PATH}.")
