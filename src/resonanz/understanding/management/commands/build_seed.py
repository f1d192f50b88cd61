"""Embed the seed corpus once and write the vectors the package ships (``analysis/seed/vectors.npz``)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from resonanz.analysis import seedvectors
from resonanz.core.progress import Progress
from resonanz.understanding import engine


class Command(BaseCommand):
    help = ("Embed the seed corpus with the configured encoder and write analysis/seed/vectors.npz, which the first "
            "`resonanz setup` loads instead of embedding 6,900 texts. Run it (and commit the file) whenever the "
            "corpus or the encoder changes; a test fails until you do.")

    def add_arguments(self, parser):
        parser.add_argument("--output", help="write here instead of the package's file")
        parser.add_argument("--use-cache", action="store_true",
                            help="reuse vectors from var/cache (same encoder name) instead of computing all afresh")

    def handle(self, *args, output, use_cache, **options):
        emb = engine.embedder()
        if emb is None:
            raise CommandError("No embedder is configured (RESONANZ_EMBEDDER=none): nothing to build.")
        texts = len(seedvectors.seed_texts())
        with Progress("embedding the seed corpus", total=texts) as progress:
            info = seedvectors.build(emb, engine.embedding_cache() if use_cache else None, output, progress)
        self.stdout.write(f"wrote {info.path}: {info.rows:,} vectors from {info.encoder}, "
                          f"{info.bytes / 1e6:.2f} MB, {info.seconds} s ({info.cpu_seconds} s CPU)")
        self.stdout.write(seedvectors.status(emb, info.path)[1])
