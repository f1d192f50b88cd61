"""Import or export the knowledge base: ``resonanz knowledge import PATH`` / ``resonanz knowledge export PATH``."""

from __future__ import annotations

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from resonanz.knowledge import transfer


class Command(BaseCommand):
    help = ("Import articles from a Markdown file (with a front matter block), a .zip of Markdown files or a "
            "JSON export; or export all articles as .json or .zip.")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True)
        imp = sub.add_parser("import", help="import a .md, .zip or .json file (all or nothing)")
        imp.add_argument("path")
        imp.add_argument("--editor", help="email or username recorded as the editor of the imported versions")
        exp = sub.add_parser("export", help="export all articles to a .json or .zip file")
        exp.add_argument("path")

    def handle(self, *args, verb, path, **options):
        if verb == "import":
            self.do_import(Path(path), options.get("editor"))
        else:
            self.do_export(Path(path))

    def do_import(self, path: Path, editor_name: str | None) -> None:
        if not path.is_file():
            raise CommandError(f"{path}: no such file.")
        if path.stat().st_size > transfer.MAX_FILE_BYTES:
            raise CommandError(f"{path}: larger than {transfer.MAX_FILE_BYTES // 2**20} MB.")
        editor = None
        if editor_name:
            User = get_user_model()
            editor = (User.objects.filter(username=editor_name).first()
                      or User.objects.filter(email__iexact=editor_name).first())
            if editor is None:
                raise CommandError(f"No user {editor_name!r}.")
        try:
            bundle = transfer.parse_upload(path.name, path.read_bytes())
            result = transfer.import_bundle(
                bundle, editor,
                progress=lambda items: tqdm(items, desc="articles", unit="article", file=self.stderr._out,
                                            disable=len(items) < 2))
        except transfer.ImportFailed as exc:
            raise CommandError("Nothing was imported:\n  " + "\n  ".join(exc.errors)) from exc
        self.stdout.write(self.style.SUCCESS(
            f"Imported {result.total} articles: {result.created} new, {result.updated} updated"
            + (f", {result.categories_created} new categories" if result.categories_created else "") + "."))
        if result.skipped:
            self.stdout.write(f"Skipped (not Markdown): {', '.join(result.skipped)}")

    def do_export(self, path: Path) -> None:
        suffix = path.suffix.lower()
        if suffix not in (".json", ".zip"):
            raise CommandError(f"{path}: the export file must end in .json or .zip.")
        if not path.parent.exists():
            raise CommandError(f"{path.parent}: no such directory.")
        if suffix == ".json":
            doc = transfer.export_json()
            path.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
            count = len(doc["articles"])
        else:
            data = transfer.export_zip()
            path.write_bytes(data)
            import io
            import zipfile

            count = sum(1 for n in zipfile.ZipFile(io.BytesIO(data)).namelist() if n.endswith(".md"))
        self.stdout.write(self.style.SUCCESS(f"Exported {count} articles to {path}."))
