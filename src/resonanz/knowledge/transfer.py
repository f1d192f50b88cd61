"""Import and export of the knowledge base: Markdown files with a front matter block, .zip bundles, JSON.

A Markdown file looks like this::

    ---
    title: Wie setze ich mein Passwort zurück?
    language: de
    category: Konto
    status: published
    visibility: public
    tags: konto, passwort
    example_questions:
      - Passwort vergessen
      - Ich komme nicht mehr in mein Konto
    ---
    Öffnen Sie **Konto → Sicherheit** ...

Everything is parsed and checked first; then all articles are written in one transaction
through the knowledge actions, so a bad file never leaves half an import behind.
An article with the same title and language as an existing one updates it.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from resonanz.analysis.language import detect_language
from resonanz.core.errors import ActionError
from resonanz.knowledge import actions
from resonanz.knowledge.models import Article, Category

FORMAT = "resonanz-knowledge"
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ZIP_MEMBERS = 5000
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
MARKDOWN_SUFFIXES = {".md", ".markdown", ".txt"}
LIST_FIELDS = {"tags", "example_questions"}
CATEGORIES_MEMBER = "categories.json"


class ImportFailed(ActionError):
    """The file cannot be imported; ``errors`` lists every problem, each naming its file."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        shown = errors[:20] + ([f"… and {len(errors) - 20} more problems."] if len(errors) > 20 else [])
        super().__init__("Nothing was imported. " + " ".join(shown), "file")


@dataclass
class Item:
    """One article as read from a file, before it is written."""

    source: str
    title: str
    body: str
    language: str = ""
    category: str = ""
    status: str = ""
    visibility: str = ""
    tags: list[str] | None = None
    example_questions: list[str] | None = None
    key: str = ""
    translation: str = ""


@dataclass
class Bundle:
    items: list[Item] = field(default_factory=list)
    categories: list[dict] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    categories_created: int = 0
    skipped: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.created + self.updated


# ---------------------------------------------------------------- parsing


def _scalar(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            return str(json.loads(value))
        except ValueError:
            return value[1:-1]
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1].replace("''", "'")
    return value


def _inline_list(value: str) -> list[str]:
    value = value.strip()
    if value.startswith("[") and value.endswith("]"):
        value = value[1:-1]
    return [_scalar(v) for v in value.split(",") if _scalar(v)]


def parse_front_matter(text: str, source: str) -> tuple[dict, str]:
    """The ``key: value`` block between two ``---`` lines and the body after it."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.startswith("---\n"):
        return {}, text
    end = text.find("\n---", 3)
    while end != -1 and text[end + 4:end + 5] not in ("", "\n"):
        end = text.find("\n---", end + 4)
    if end == -1:
        raise ImportFailed([f"{source}: the front matter block starting with --- is never closed."])
    block, body = text[4:end], text[end + 5:]
    meta: dict = {}
    current: str | None = None
    for number, line in enumerate(block.split("\n"), start=2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        stripped = line.strip()
        if stripped.startswith("- ") or stripped == "-":
            if current is None:
                raise ImportFailed([f"{source}, line {number}: a list item without a field name above it."])
            item = _scalar(stripped[1:])
            if item:
                meta.setdefault(current, []).append(item)
            continue
        if ":" not in line:
            raise ImportFailed([f"{source}, line {number}: expected 'name: value', found {stripped[:60]!r}."])
        key, value = line.split(":", 1)
        key = key.strip().lower().replace("-", "_").replace(" ", "_")
        current = key
        if value.strip():
            meta[key] = _inline_list(value) if key in LIST_FIELDS else _scalar(value)
        else:
            meta[key] = [] if key in LIST_FIELDS else ""
    return meta, body.lstrip("\n")


def _decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFailed([f"{source}: not UTF-8 text (save the file as UTF-8)."]) from None


def _as_list(value, source: str, name: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [v.strip() for v in (value.split("\n") if name == "example_questions" else value.split(","))
                if v.strip()]
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return [str(v).strip() for v in value if str(v).strip()]
    raise ImportFailed([f"{source}: {name} must be a list of texts."])


def parse_markdown(text: str, source: str) -> Item:
    meta, body = parse_front_matter(text, source)
    title = str(meta.get("title") or "").strip()
    if not title:
        # No title in the front matter: a leading "# Heading" line is the title.
        lines = body.lstrip().split("\n", 1)
        if lines and lines[0].startswith("# "):
            title = lines[0][2:].strip()
            body = lines[1] if len(lines) > 1 else ""
    return Item(
        source=source, title=title, body=body.strip("\n"),
        language=str(meta.get("language") or meta.get("lang") or "").strip().lower(),
        category=str(meta.get("category") or "").strip(), status=str(meta.get("status") or "").strip().lower(),
        visibility=str(meta.get("visibility") or "").strip().lower(),
        tags=_as_list(meta.get("tags"), source, "tags"),
        example_questions=_as_list(meta.get("example_questions"), source, "example_questions"),
        key=str(meta.get("key") or PurePosixPath(source).stem), translation=str(meta.get("translation") or ""),
    )


def _item_from_json(row, source: str) -> Item:
    if not isinstance(row, dict):
        raise ImportFailed([f"{source}: each article must be an object with title and body."])
    text = {}
    for name in ("title", "body", "language", "category", "status", "visibility", "key", "translation"):
        value = row.get(name)
        if value is not None and not isinstance(value, (str, int)):
            raise ImportFailed([f"{source}: {name} must be a text."])
        text[name] = "" if value is None else str(value)
    return Item(source=source, title=text["title"].strip(), body=text["body"].strip("\n"),
                language=text["language"].strip().lower(), category=text["category"].strip(),
                status=text["status"].strip().lower(), visibility=text["visibility"].strip().lower(),
                tags=_as_list(row.get("tags"), source, "tags"),
                example_questions=_as_list(row.get("example_questions"), source, "example_questions"),
                key=text["key"], translation=text["translation"])


def parse_json(data: bytes, source: str) -> Bundle:
    try:
        doc = json.loads(_decode(data, source))
    except ValueError as exc:
        raise ImportFailed([f"{source}: not valid JSON ({exc})."]) from None
    rows = doc.get("articles") if isinstance(doc, dict) else doc
    if not isinstance(rows, list):
        raise ImportFailed([f"{source}: expected a Resonanz knowledge export with an 'articles' list."])
    categories = doc.get("categories", []) if isinstance(doc, dict) else []
    if not isinstance(categories, list) or not all(isinstance(c, dict) for c in categories):
        raise ImportFailed([f"{source}: 'categories' must be a list of objects."])
    bundle = Bundle(categories=categories)
    errors = []
    for n, row in enumerate(rows, start=1):
        try:
            bundle.items.append(_item_from_json(row, f"{source}, article {n}"))
        except ImportFailed as exc:
            errors.extend(exc.errors)
    if errors:
        raise ImportFailed(errors)
    return bundle


def _parse_categories(data: bytes, source: str) -> list[dict]:
    try:
        doc = json.loads(_decode(data, source))
    except ValueError as exc:
        raise ImportFailed([f"{source}: not valid JSON ({exc})."]) from None
    categories = doc.get("categories") if isinstance(doc, dict) else doc
    if not isinstance(categories, list) or not all(isinstance(c, dict) for c in categories):
        raise ImportFailed([f"{source}: expected a list of categories."])
    return categories


def parse_zip(data: bytes, source: str) -> Bundle:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ImportFailed([f"{source}: not a valid .zip file."]) from None
    members = [m for m in archive.infolist() if not m.is_dir()]
    if len(members) > MAX_ZIP_MEMBERS:
        raise ImportFailed([f"{source}: more than {MAX_ZIP_MEMBERS} files in the archive."])
    if sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
        raise ImportFailed([f"{source}: the archive unpacks to more than {MAX_UNPACKED_BYTES // 2**20} MB."])
    bundle, errors = Bundle(), []
    for member in sorted(members, key=lambda m: m.filename):
        path = PurePosixPath(member.filename)
        name = f"{source}/{member.filename}"
        if any(part.startswith(".") or part == "__MACOSX" for part in path.parts):
            continue
        try:
            raw = archive.read(member)
        except (zipfile.BadZipFile, RuntimeError, OSError, EOFError) as exc:
            errors.append(f"{name}: cannot be unpacked ({exc}).")
            continue
        try:
            if path.name == CATEGORIES_MEMBER:
                bundle.categories.extend(_parse_categories(raw, name))
            elif path.suffix.lower() == ".json":
                sub = parse_json(raw, name)
                bundle.items.extend(sub.items)
                bundle.categories.extend(sub.categories)
            elif path.suffix.lower() in MARKDOWN_SUFFIXES:
                bundle.items.append(parse_markdown(_decode(raw, name), name))
            else:
                bundle.skipped.append(member.filename)
        except ImportFailed as exc:
            errors.extend(exc.errors)
    if errors:
        raise ImportFailed(errors)
    if not bundle.items:
        raise ImportFailed([f"{source}: the archive holds no Markdown (.md) or JSON files."])
    return bundle


def parse_upload(name: str, data: bytes) -> Bundle:
    """A bundle of articles from one uploaded or named file: .md, .zip or .json."""
    suffix = PurePosixPath(name or "").suffix.lower()
    if len(data) > MAX_FILE_BYTES:
        raise ImportFailed([f"{name}: larger than {MAX_FILE_BYTES // 2**20} MB."])
    if not data.strip():
        raise ImportFailed([f"{name}: the file is empty."])
    if suffix == ".zip" or data[:4] == b"PK\x03\x04":
        return parse_zip(data, name)
    if suffix == ".json":
        return parse_json(data, name)
    if suffix in MARKDOWN_SUFFIXES or not suffix:
        return Bundle(items=[parse_markdown(_decode(data, name), name)])
    raise ImportFailed([f"{name}: unsupported file type {suffix}; use .md, .zip or .json."])


# ---------------------------------------------------------------- checking and writing


def _check(items: list[Item]) -> list[str]:
    errors = []
    for item in items:
        if not item.title:
            errors.append(f"{item.source}: no title (add 'title: …' to the front matter or a '# Heading').")
        elif len(item.title) > 250:
            errors.append(f"{item.source}: the title is longer than 250 characters.")
        if not item.body.strip():
            errors.append(f"{item.source}: the article has no text.")
        if item.language and item.language not in Article.Language.values:
            errors.append(f"{item.source}: language must be de or en, not {item.language!r}.")
        if item.status and item.status not in Article.Status.values:
            errors.append(f"{item.source}: status must be one of {', '.join(Article.Status.values)}, "
                          f"not {item.status!r}.")
        if item.visibility and item.visibility not in Article.Visibility.values:
            errors.append(f"{item.source}: visibility must be public or internal, not {item.visibility!r}.")
        if item.category and len(item.category) > 120:
            errors.append(f"{item.source}: the category name is longer than 120 characters.")
        if any(len(t) > 64 for t in item.tags or []):
            errors.append(f"{item.source}: a tag is longer than 64 characters.")
    seen: dict[tuple[str, str], str] = {}
    for item in items:
        ident = (item.title.casefold(), item.language)
        if item.title and ident in seen:
            errors.append(f"{item.source}: the same title and language as {seen[ident]}.")
        seen.setdefault(ident, item.source)
    return errors


def _guess_language(item: Item) -> str:
    try:
        code = detect_language(f"{item.title}\n{item.body[:2000]}").code
    except Exception:  # noqa: BLE001 - a missing detector falls back to English
        code = ""
    return code if code in Article.Language.values else Article.Language.EN


def _category(ref: str, meta: dict[str, dict], cache: dict[str, Category], result: ImportResult) -> Category:
    key = ref.casefold()
    if key in cache:
        return cache[key]
    info = meta.get(key, {})
    found = (Category.objects.filter(slug=info.get("slug") or slugify(ref)).first()
             or Category.objects.filter(name__iexact=ref).first()
             or Category.objects.filter(name_de__iexact=ref).first())
    if found is None:
        found = actions.create_category(str(info.get("name") or ref), name_de=str(info.get("name_de") or ""),
                                        description=str(info.get("description") or ""))
        result.categories_created += 1
    cache[key] = found
    return found


def import_bundle(bundle: Bundle, editor, *, progress=None) -> ImportResult:
    """Write the bundle's articles, all or nothing; ``progress`` may wrap the item iterable (tqdm)."""
    errors = _check(bundle.items)
    if errors:
        raise ImportFailed(errors)
    result = ImportResult(skipped=list(bundle.skipped))
    meta: dict[str, dict] = {}
    for c in bundle.categories:
        for ref in (c.get("slug"), c.get("name"), c.get("name_de")):
            if ref:
                meta[str(ref).casefold()] = c
    for item in bundle.items:
        if not item.language:
            item.language = _guess_language(item)
    by_key: dict[str, Article] = {}
    cache: dict[str, Category] = {}
    iterable = progress(bundle.items) if progress else bundle.items
    with transaction.atomic():
        for item in iterable:
            values = {"title": item.title, "body": item.body, "language": item.language}
            if item.category:
                values["category"] = _category(item.category, meta, cache, result)
            if item.status:
                values["status"] = item.status
            if item.visibility:
                values["visibility"] = item.visibility
            if item.example_questions is not None:
                values["example_questions"] = "\n".join(item.example_questions)
            existing = (Article.objects.filter(title__iexact=item.title, language=item.language)
                        .order_by("pk").first())
            try:
                if existing is None:
                    article = actions.create_article(editor, tags=item.tags, note=f"imported from {item.source}",
                                                     source="import", **values)
                    result.created += 1
                else:
                    article = actions.update_article(existing, editor, tags=item.tags,
                                                     note=f"imported from {item.source}", **values)
                    result.updated += 1
            except ActionError as exc:
                raise ImportFailed([f"{item.source}: {exc.message}"]) from exc
            if item.key:
                by_key[item.key] = article
        for item in bundle.items:
            if not item.translation or item.translation not in by_key or item.key not in by_key:
                continue
            article, other = by_key[item.key], by_key[item.translation]
            if article.language == other.language:
                raise ImportFailed([f"{item.source}: its translation {item.translation} is in the same "
                                    "language."])
            article.refresh_from_db(fields=["translation_group"])
            other.refresh_from_db(fields=["translation_group"])
            if not article.translation_group or article.translation_group != other.translation_group:
                actions.link_translation(article, other)
    return result


def import_file(name: str, data: bytes, editor, *, progress=None) -> ImportResult:
    return import_bundle(parse_upload(name, data), editor, progress=progress)


# ---------------------------------------------------------------- export


def _key(article: Article) -> str:
    return f"a{article.pk}"


def _rows(queryset=None) -> list[dict]:
    qs = (queryset if queryset is not None else Article.objects.all())
    qs = qs.select_related("category").prefetch_related("tags").order_by("pk")
    articles = list(qs)
    groups: dict[int, list[Article]] = {}
    for a in articles:
        if a.translation_group:
            groups.setdefault(a.translation_group, []).append(a)
    rows = []
    for a in articles:
        partner = next((o for o in groups.get(a.translation_group or 0, []) if o.pk != a.pk), None)
        rows.append({
            "key": _key(a), "title": a.title, "body": a.body, "language": a.language,
            "category": a.category.slug if a.category else "", "status": a.status, "visibility": a.visibility,
            "tags": sorted(t.name for t in a.tags.all()), "example_questions": a.questions,
            "translation": _key(partner) if partner else "", "source": a.source,
            "updated_at": a.updated_at.isoformat() if a.updated_at else None,
        })
    return rows


def _categories() -> list[dict]:
    return [{"slug": c.slug, "name": c.name, "name_de": c.name_de, "description": c.description,
             "position": c.position} for c in Category.objects.all()]


def export_json(queryset=None) -> dict:
    return {"format": FORMAT, "version": 1, "exported_at": timezone.now().isoformat(),
            "categories": _categories(), "articles": _rows(queryset)}


def _fm_value(value: str) -> str:
    value = str(value)
    if value != value.strip() or value[:1] in "\"'[" or "\n" in value:
        return json.dumps(value, ensure_ascii=False)
    return value


def to_markdown(row: dict) -> str:
    lines = ["---"]
    for name in ("title", "language", "category", "status", "visibility", "key", "translation"):
        if row.get(name):
            lines.append(f"{name}: {_fm_value(row[name])}")
    if row.get("tags"):
        lines.append("tags: " + ", ".join(t.replace(",", " ") for t in row["tags"]))
    if row.get("example_questions"):
        lines.append("example_questions:")
        lines.extend(f"  - {_fm_value(q)}" for q in row["example_questions"])
    lines.append("---")
    return "\n".join(lines) + "\n" + row["body"].rstrip("\n") + "\n"


def export_zip(queryset=None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(CATEGORIES_MEMBER, json.dumps({"format": FORMAT, "categories": _categories()},
                                                       ensure_ascii=False, indent=2))
        for row in _rows(queryset):
            slug = slugify(row["title"])[:80] or "article"
            archive.writestr(f"{row['language']}/{row['key'][1:]}-{slug}.md", to_markdown(row))
    return buffer.getvalue()
