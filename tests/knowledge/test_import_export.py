"""Import and export of the knowledge base: Markdown with front matter, .zip, JSON; all or nothing."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resonanz.knowledge import transfer
from resonanz.knowledge.actions import create_article, create_category, link_translation
from resonanz.knowledge.models import Article, Category

pytestmark = pytest.mark.django_db

GERMAN = """---
title: Wie setze ich mein Passwort zurück?
language: de
category: Konto
status: published
tags: konto, passwort
example_questions:
  - Passwort vergessen
  - "Ich komme nicht: mehr rein"
---
Öffnen Sie **Konto → Sicherheit**.
"""


def make_zip(files: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.fixture
def kb(admin_user):
    account = create_category("Account", name_de="Konto", description="Login and security")
    en = create_article(admin_user, title="How do I reset my password?", body="Open **Account → Security**.\n\n"
                        "- one\n- two", language="en", status="published", category=account,
                        example_questions="forgot password\nlost password", tags=["account"])
    de = create_article(admin_user, title="Wie setze ich mein Passwort zurück?", body="Öffnen Sie **Konto**.",
                        language="de", status="published", category=account, visibility="internal")
    link_translation(de, en)
    create_article(admin_user, title='A "quoted": title', body="Draft text", language="en")
    return Article.objects.all()


def snapshot():
    return sorted(
        (a.title, a.body, a.language, a.status, a.visibility, a.category.slug if a.category else "",
         a.example_questions, tuple(sorted(a.tags.values_list("name", flat=True))),
         tuple(sorted(a.translations().values_list("title", flat=True))))
        for a in Article.objects.all())


def wipe():
    Article.objects.all().delete()
    Category.objects.all().delete()


@pytest.mark.parametrize("kind", ["json", "zip"])
def test_round_trip(kb, admin_user, kind):
    before = snapshot()
    data = json.dumps(transfer.export_json()).encode() if kind == "json" else transfer.export_zip()
    wipe()
    result = transfer.import_file(f"export.{kind}", data, admin_user)
    assert result.created == 3 and result.categories_created == 1
    assert snapshot() == before
    assert Category.objects.get().name_de == "Konto"
    assert set(Article.objects.values_list("source", flat=True)) == {"import"}
    again = transfer.import_file(f"export.{kind}", data, admin_user)  # importing again updates, never duplicates
    assert again.updated == 3 and again.created == 0 and Article.objects.count() == 3


def test_markdown_file_with_front_matter(admin_user):
    result = transfer.import_file("passwort.md", GERMAN.encode(), admin_user)
    article = Article.objects.get()
    assert result.created == 1 and article.language == "de" and article.status == "published"
    assert article.category.name == "Konto" and article.body == "Öffnen Sie **Konto → Sicherheit**."
    assert article.questions == ["Passwort vergessen", "Ich komme nicht: mehr rein"]
    assert sorted(article.tags.values_list("name", flat=True)) == ["konto", "passwort"]
    assert article.versions.get().note == "imported from passwort.md"


def test_heading_is_the_title_and_drafts_by_default(admin_user):
    transfer.import_file("x.md", b"# Opening hours\n\nWe are open from 9 to 5.", admin_user)
    article = Article.objects.get()
    assert article.title == "Opening hours" and article.body == "We are open from 9 to 5."
    assert article.status == "draft" and article.visibility == "public"


@pytest.mark.parametrize("files, message", [
    ({"a.md": GERMAN, "b.md": "---\ntitle: Broken\nlanguage: fr\n---\ntext"}, "language must be de or en"),
    ({"a.md": GERMAN, "b.md": "---\ntitle: No end\n\ntext"}, "never closed"),
    ({"a.md": GERMAN, "b.md": "---\nlanguage: en\n---\njust text"}, "no title"),
    ({"a.md": GERMAN, "b.md": "---\ntitle: Empty\n---\n"}, "no text"),
    ({"a.md": GERMAN, "b.md": "---\ntitle: X\nstatus: live\n---\nbody"}, "status must be one of"),
    ({"a.md": GERMAN, "b.md": b"---\ntitle: X\n---\n\xff\xfe broken"}, "not UTF-8"),
    ({"a.md": GERMAN, "b.md": GERMAN}, "same title and language"),
    ({"a.md": GERMAN, "b.md": "---\nthis line has no colon\n---\nbody"}, "expected 'name: value'"),
    ({"readme.png": b"\x89PNG"}, "no Markdown"),
])
def test_bad_zip_imports_nothing_and_names_the_file(admin_user, files, message):
    with pytest.raises(transfer.ImportFailed) as err:
        transfer.import_file("bundle.zip", make_zip(files), admin_user)
    assert message in err.value.message and ("bundle.zip" in err.value.message)
    assert not Article.objects.exists() and not Category.objects.exists()


@pytest.mark.parametrize("name, data, message", [
    ("x.json", b"{not json", "not valid JSON"),
    ("x.json", b'{"articles": "nope"}', "'articles' list"),
    ("x.json", b'{"articles": [{"title": "T", "body": "b", "language": "en"}, 5]}', "must be an object"),
    ("x.json", b'{"articles": [{"title": "T", "body": "b", "tags": [{"x": 1}]}]}', "tags must be a list"),
    ("x.zip", b"PK\x03\x04garbage", "not a valid .zip"),
    ("x.pdf", b"%PDF-1.4", "unsupported file type"),
    ("x.md", b"   ", "empty"),
])
def test_bad_files(admin_user, name, data, message):
    with pytest.raises(transfer.ImportFailed) as err:
        transfer.import_file(name, data, admin_user)
    assert message in err.value.message
    assert not Article.objects.exists()


def test_a_failing_write_rolls_back_everything(admin_user, monkeypatch):
    from resonanz.core.errors import ActionError
    from resonanz.knowledge import actions

    real = actions.create_article
    calls = []

    def flaky(editor, **kwargs):
        calls.append(kwargs["title"])
        if len(calls) == 2:
            raise ActionError("disk on fire")
        return real(editor, **kwargs)

    monkeypatch.setattr(actions, "create_article", flaky)
    data = make_zip({"a.md": "# First\n\nOne", "b.md": "# Second\n\nTwo", "c.md": "---\ntitle: T\ncategory: New"
                     "\n---\nThree"})
    with pytest.raises(transfer.ImportFailed, match="disk on fire"):
        transfer.import_file("bundle.zip", data, admin_user)
    assert not Article.objects.exists() and not Category.objects.exists()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=400))
def test_front_matter_parser_never_crashes(text):
    try:
        item = transfer.parse_markdown("---\n" + text, "fuzz.md")
    except transfer.ImportFailed as exc:
        assert exc.errors and all(e.startswith("fuzz.md") for e in exc.errors)
    else:
        assert isinstance(item.title, str) and isinstance(item.body, str)


@settings(max_examples=40, deadline=None)
@given(title=st.text(min_size=1, max_size=80).filter(lambda t: t.strip() and "\n" not in t and "\r" not in t),
       questions=st.lists(st.text(min_size=1, max_size=40).filter(
           lambda t: t.strip() == t and t and "\n" not in t and "\r" not in t), max_size=3))
def test_markdown_export_parses_back(title, questions):
    row = {"title": title.strip(), "body": "Body", "language": "en", "category": "", "status": "draft",
           "visibility": "public", "key": "a1", "translation": "", "tags": [], "example_questions": questions}
    item = transfer.parse_markdown(transfer.to_markdown(row), "x.md")
    assert item.title == title.strip() and item.example_questions == (questions or None) and item.body == "Body"


def test_ui_import_and_export(client, admin_user, kb):
    client.force_login(admin_user)
    exported = client.get(reverse("knowledge:export_json"))
    assert exported.status_code == 200 and "attachment" in exported["Content-Disposition"]
    assert len(json.loads(exported.content)["articles"]) == 3
    archive = client.get(reverse("knowledge:export_zip"))
    names = zipfile.ZipFile(io.BytesIO(archive.content)).namelist()
    assert "categories.json" in names and sum(n.endswith(".md") for n in names) == 3
    bad = client.post(reverse("knowledge:transfer"), {"file": io.BytesIO(b"---\ntitle: x\nlanguage: xx\n---\nb")})
    assert bad.status_code == 200 and "language must be de or en" in bad.content.decode()
    upload = io.BytesIO(GERMAN.replace("Wie setze", "Wie ändere").encode())
    upload.name = "neu.md"
    response = client.post(reverse("knowledge:transfer"), {"file": upload})
    assert response.status_code == 302 and Article.objects.filter(title__startswith="Wie ändere").exists()


def test_command(tmp_path, kb, capsys):
    target = tmp_path / "kb.zip"
    call_command("knowledge", "export", str(target))
    call_command("knowledge", "export", str(tmp_path / "kb.json"))
    before = snapshot()
    wipe()
    call_command("knowledge", "import", str(target))
    assert snapshot() == before
    bad = tmp_path / "bad.md"
    bad.write_text("---\ntitle: x\nstatus: gone\n---\nbody")
    with pytest.raises(CommandError, match="status must be one of"):
        call_command("knowledge", "import", str(bad))
    with pytest.raises(CommandError, match="no such file"):
        call_command("knowledge", "import", str(tmp_path / "missing.md"))
    with pytest.raises(CommandError, match=".json or .zip"):
        call_command("knowledge", "export", str(tmp_path / "kb.txt"))
