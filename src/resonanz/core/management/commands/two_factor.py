"""``resonanz two_factor reset EMAIL`` / ``resonanz two_factor require [ROLE ...]``: for an administrator who
cannot reach the UI (the only administrator lost their phone and recovery codes), from the server's shell."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from resonanz.core import twofactor
from resonanz.core.errors import ActionError
from resonanz.core.permissions import ROLES


class Command(BaseCommand):
    help = "Reset an agent's two-factor sign-in, or set which roles must use it."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="what", required=True)
        reset = sub.add_parser("reset", help="switch two-factor sign-in off for one account (audit-logged)")
        reset.add_argument("account", help="email address or user name")
        require = sub.add_parser("require", help=f"roles that must use it ({', '.join(ROLES)}); none: nobody")
        require.add_argument("roles", nargs="*")

    def handle(self, *args, what, **options):
        if what == "reset":
            name = options["account"]
            user = get_user_model().objects.filter(Q(username__iexact=name) | Q(email__iexact=name)).first()
            if user is None:
                raise CommandError(f"No account {name!r}: give the email address or user name of an agent.")
            twofactor.disable(user, actor=None)
            self.stdout.write(f"Two-factor sign-in is off for {user.get_username()}; they can set it up again "
                              "on their profile.")
            return
        try:
            policy = twofactor.set_required_roles(options["roles"], actor=None)
        except ActionError as exc:
            raise CommandError(f"{exc.message} Roles: {', '.join(ROLES)}.") from None
        roles = ", ".join(policy.two_factor_roles) or "nobody"
        self.stdout.write(f"Two-factor sign-in is required for: {roles}.")
