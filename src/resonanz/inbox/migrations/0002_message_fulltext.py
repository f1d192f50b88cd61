"""Full-text search over messages: an FTS5 index on SQLite, a GIN index on PostgreSQL."""

from django.db import migrations

SQLITE = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS inbox_message_fts USING fts5("
    "text, content='inbox_message', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS inbox_message_fts_ai AFTER INSERT ON inbox_message BEGIN "
    "INSERT INTO inbox_message_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER IF NOT EXISTS inbox_message_fts_ad AFTER DELETE ON inbox_message BEGIN "
    "INSERT INTO inbox_message_fts(inbox_message_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER IF NOT EXISTS inbox_message_fts_au AFTER UPDATE OF text ON inbox_message BEGIN "
    "INSERT INTO inbox_message_fts(inbox_message_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO inbox_message_fts(rowid, text) VALUES (new.id, new.text); END",
    "INSERT INTO inbox_message_fts(inbox_message_fts) VALUES ('rebuild')",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS inbox_message_fts_ai", "DROP TRIGGER IF EXISTS inbox_message_fts_ad",
    "DROP TRIGGER IF EXISTS inbox_message_fts_au", "DROP TABLE IF EXISTS inbox_message_fts",
]
POSTGRES = ["CREATE INDEX IF NOT EXISTS inbox_message_text_fts ON inbox_message "
            "USING GIN (to_tsvector('simple', text))"]
POSTGRES_DROP = ["DROP INDEX IF EXISTS inbox_message_text_fts"]


def forwards(apps, schema_editor):
    statements = {"sqlite": SQLITE, "postgresql": POSTGRES}.get(schema_editor.connection.vendor, [])
    for sql in statements:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    statements = {"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}.get(schema_editor.connection.vendor, [])
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("inbox", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
