"""resonanz stream [--channel NAME]: keep the streaming connections of channels that offer one open.

One connection per stream a channel offers (Mastodon: the account's, and one per hashtag it listens for).
Polling stays the safety net (it reads whatever a dropped stream missed, and the intake ignores what it has);
a stream brings mentions within a second and the edits and deletions polling cannot see. One thread per
channel; a dropped connection is opened again after a growing pause (1 s up to 60 s), a refused token after
the channel's poll interval, and each outcome is recorded on the channel's health.
"""

from __future__ import annotations

import threading
import time

from django.core.management.base import BaseCommand, CommandError

from resonanz.connectors.actions import record_health
from resonanz.connectors.drivers import get_driver
from resonanz.connectors.models import Channel
from resonanz.connectors.social.errors import NotFound

MAX_PAUSE = 60.0


class Command(BaseCommand):
    help = "Keep the streaming connections of social channels open (Mastodon's streaming API); Ctrl+C stops."

    def add_arguments(self, parser):
        parser.add_argument("--channel", action="append", default=[], help="only this channel (repeatable)")

    def handle(self, *args, **options):
        channels = [c for c in Channel.objects.filter(enabled=True) if get_driver(c).streams]
        if options["channel"]:
            channels = [c for c in channels if c.name in options["channel"]]
        if not channels:
            raise CommandError("No enabled channel offers a stream (Mastodon channels do).")
        stop = threading.Event()
        threads = []
        for channel in channels:
            try:
                names = get_driver(channel).stream_names()
            except Exception as exc:  # a channel with broken settings is reported, the others stream
                self.stderr.write(f"{channel.name}: {exc}")
                continue
            threads += [threading.Thread(target=self._run, args=(channel, name, stop), daemon=True,
                                         name=f"{channel.name} {name}") for name in names]
        if not threads:
            raise CommandError("No stream could be opened; check the channels' settings.")
        for thread in threads:
            thread.start()
        self.stdout.write(f"streaming {len(threads)} connection(s): {', '.join(t.name for t in threads)}")
        try:
            while any(t.is_alive() for t in threads):
                time.sleep(1)
        except KeyboardInterrupt:
            stop.set()
            self.stdout.write("stopped")

    def _run(self, channel: Channel, name: str, stop: threading.Event) -> None:
        pause = 1.0
        while not stop.is_set():
            started = time.monotonic()
            try:
                get_driver(channel).stream(name=name)
                record_health(channel, True)
            except Exception as exc:  # one channel's failure never stops the others
                record_health(channel, False, f"stream {name}: {exc.__class__.__name__}: {exc}")
                self.stderr.write(f"{channel.name} ({name}): {exc}")
                if "Re-connect" in str(exc) or "refused" in str(exc).lower() or isinstance(exc, NotFound):
                    # a refused token, or a server without this stream: the poll reads it meanwhile
                    pause = max(pause, float(channel.poll_interval))
            if time.monotonic() - started > 60:
                pause = 1.0  # it ran a good while: the next drop is a fresh one
            stop.wait(pause)
            pause = min(pause * 2, MAX_PAUSE)
            channel.refresh_from_db()
