"""The ``resonanz`` console command: the project's manage.py."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resonanz.settings")
    from resonanz.core.files import use_private_umask

    use_private_umask()  # the database, attachments, backups and exports: readable only by this user
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
