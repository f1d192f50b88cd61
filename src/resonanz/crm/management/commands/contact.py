"""``resonanz contact export ID [-o FILE]`` and ``resonanz contact erase ID [--yes]``: GDPR from the console.

Erasing asks for the contact's number unless ``--yes`` is given (for scripts that checked it already);
both are written to the audit log as done by the console.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from resonanz.core import audit
from resonanz.core.errors import ActionError
from resonanz.core.files import write_private
from resonanz.crm import actions, privacy
from resonanz.crm.models import Contact


class Command(BaseCommand):
    help = "GDPR: export everything about a contact as one ZIP, or erase a contact for good."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="what", required=True)
        export = sub.add_parser("export", help="write contact.json and the attachment files as one ZIP")
        export.add_argument("id", type=int)
        export.add_argument("-o", "--output", help="file to write (default: resonanz-contact-ID-DATE.zip here)")
        erase = sub.add_parser("erase", help="erase the contact and everything about it (not reversible)")
        erase.add_argument("id", type=int)
        erase.add_argument("--yes", action="store_true", help="do not ask for the contact's number")

    def handle(self, *args, what, **options):
        contact = Contact.objects.filter(pk=options["id"]).first()
        if contact is None:
            raise CommandError(f"There is no contact #{options['id']}; `resonanz contact` takes the number "
                               "shown on the contact page.")
        if what == "export":
            body = privacy.export_zip(contact)
            path = Path(options.get("output") or privacy.export_filename(contact))
            write_private(path, body)
            audit.record("contact.export", actor_label="console", target=contact, format="zip", bytes=len(body))
            self.stdout.write(f"Wrote {path} ({len(body):,} bytes, readable only by you).")
            return
        counts = privacy.erasure_preview(contact)
        self.stdout.write(f"Erasing contact #{contact.pk} removes for good:")
        for key, n in counts.items():
            self.stdout.write(f"  {key.replace('_', ' ')}: {n}")
        confirm = contact.pk if options["yes"] else input(f"Type the contact's number {contact.pk} to confirm: ")
        try:
            done = actions.erase_contact(contact, confirm=confirm, actor_label="console")
        except ActionError as exc:
            raise CommandError(f"Nothing was erased: {exc.message}") from None
        audit_note = "the audit log keeps the number and the counts"
        self.stdout.write(f"Contact #{options['id']} erased ({sum(done.values())} records; {audit_note}).")
