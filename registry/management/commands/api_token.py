"""`api_token USERNAME`: print a new API token for the user (docs/operations.md "Management
commands").

Only a hash of each token is stored, so an existing token can never be shown again: the command
issues a new one, prints it on stdout (alone, so `TOKEN=$(python manage.py api_token submit-man)`
works) and, unless --keep is given, revokes the user's earlier tokens — a service account has one
live token, and running the command again is how a lost or leaked token is replaced.
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from registry.audit import Actor
from registry.models import ApiToken
from registry.tokens import api_token_issue, api_token_revoke


class Command(BaseCommand):
    help = "Print a new API token for USERNAME (earlier tokens are revoked unless --keep)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--keep", action="store_true", help="Keep the user's earlier tokens working."
        )
        parser.add_argument(
            "--revoke", action="store_true", help="Revoke all the user's tokens; print nothing."
        )
        parser.add_argument(
            "--list", action="store_true", help="List the user's tokens (prefix, use, state)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        try:
            user = user_model.objects.get(username=options["username"])
        except user_model.DoesNotExist:
            raise CommandError(f"No user {options['username']!r}.") from None
        actor = Actor(user=None, source="command", reason="api_token command")
        tokens = ApiToken.objects.filter(user=user)
        if options["list"]:
            for token in tokens:
                used = token.last_used_at.isoformat() if token.last_used_at else "never used"
                state = f"revoked {token.revoked_at.isoformat()}" if token.revoked_at else "active"
                self.stdout.write(
                    f"{token.prefix}…  created {token.created_at.isoformat()}  {used}  {state}"
                )
            return
        if options["revoke"]:
            active = list(tokens.filter(revoked_at=None))
            for token in active:
                api_token_revoke(actor=actor, token=token)
            self.stderr.write(f"Revoked {len(active)} token(s) of {user.username}.")
            return
        if not user.is_active:
            raise CommandError(f"User {user.username!r} is inactive; activate it first.")
        earlier = tokens.filter(revoked_at=None).count()
        _, raw = api_token_issue(actor=actor, user=user, revoke_others=not options["keep"])
        self.stdout.write(raw)
        if earlier and not options["keep"]:
            self.stderr.write(f"Revoked {earlier} earlier token(s) of {user.username}.")
