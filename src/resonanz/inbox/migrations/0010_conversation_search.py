"""Full-text search over conversations instead of messages: one search document per conversation (subject,
the contact's name, handles and display names of their identities, and the text of every message), kept by
triggers so every write path (ingest, imports, merges, erasure, retention, raw bulk loads) keeps it right.

Why per conversation: the inbox lists conversations, newest first. With one document per conversation a
common word is answered by walking the inbox in its own order and probing the index for a few hundred ids
(see ``inbox.search``); with one document per message the database had to collect and sort every match.
The per-message index of 0002 is dropped: nothing else reads it, and each message would pay for two indexes.

SQLite: an FTS5 table whose rowid is the conversation id. PostgreSQL: a table of tsvectors with a GIN index.
A new message appends to its conversation's document; deleting or moving a message, or changing the subject,
the contact, the contact's name or identities, rebuilds the document from the tables.
"""

from django.db import migrations

# The document's two parts as SQL over the conversation id ``{cid}`` (SQLite).
SQLITE_META = (
    "(SELECT c.subject || ' ' || ct.name || coalesce((SELECT ' ' || group_concat(i.handle || ' ' || i.display_name, "
    "' ') FROM crm_identity i WHERE i.contact_id = c.contact_id), '') FROM inbox_conversation c "
    "JOIN crm_contact ct ON ct.id = c.contact_id WHERE c.id = {cid})"
)
SQLITE_BODY = (
    "coalesce((SELECT group_concat(text, char(10)) FROM (SELECT text FROM inbox_message "
    "WHERE conversation_id = {cid} ORDER BY id)), '')"
)
FTS = "inbox_conversation_fts"


def _meta(cid: str) -> str:
    return SQLITE_META.format(cid=cid)


def _body(cid: str) -> str:
    return SQLITE_BODY.format(cid=cid)


def _refresh_contact(contact: str) -> str:
    return (f"UPDATE {FTS} SET meta = {_meta(f'{FTS}.rowid')} WHERE rowid IN "
            f"(SELECT id FROM inbox_conversation WHERE contact_id = {contact});")


SQLITE = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS} USING fts5(meta, body, tokenize='unicode61 remove_diacritics 2')",
    f"CREATE TRIGGER inbox_search_conversation_ai AFTER INSERT ON inbox_conversation BEGIN "
    f"DELETE FROM {FTS} WHERE rowid = new.id; "
    f"INSERT INTO {FTS}(rowid, meta, body) VALUES (new.id, {_meta('new.id')}, {_body('new.id')}); END",
    f"CREATE TRIGGER inbox_search_conversation_au AFTER UPDATE OF subject, contact_id ON inbox_conversation "
    f"WHEN old.subject IS NOT new.subject OR old.contact_id IS NOT new.contact_id BEGIN "
    f"UPDATE {FTS} SET meta = {_meta('new.id')} WHERE rowid = new.id; END",
    f"CREATE TRIGGER inbox_search_conversation_ad AFTER DELETE ON inbox_conversation BEGIN "
    f"DELETE FROM {FTS} WHERE rowid = old.id; END",
    f"CREATE TRIGGER inbox_search_message_ai AFTER INSERT ON inbox_message WHEN new.text != '' BEGIN "
    f"UPDATE {FTS} SET body = body || char(10) || new.text WHERE rowid = new.conversation_id; END",
    f"CREATE TRIGGER inbox_search_message_ad AFTER DELETE ON inbox_message WHEN old.text != '' BEGIN "
    f"UPDATE {FTS} SET body = {_body('old.conversation_id')} WHERE rowid = old.conversation_id; END",
    f"CREATE TRIGGER inbox_search_message_au AFTER UPDATE OF text, conversation_id ON inbox_message "
    f"WHEN old.text IS NOT new.text OR old.conversation_id IS NOT new.conversation_id BEGIN "
    f"UPDATE {FTS} SET body = {_body('old.conversation_id')} WHERE rowid = old.conversation_id; "
    f"UPDATE {FTS} SET body = {_body('new.conversation_id')} WHERE rowid = new.conversation_id; END",
    f"CREATE TRIGGER inbox_search_contact_au AFTER UPDATE OF name ON crm_contact "
    f"WHEN old.name IS NOT new.name BEGIN {_refresh_contact('new.id')} END",
    f"CREATE TRIGGER inbox_search_identity_ai AFTER INSERT ON crm_identity BEGIN {_refresh_contact('new.contact_id')} END",
    f"CREATE TRIGGER inbox_search_identity_ad AFTER DELETE ON crm_identity BEGIN {_refresh_contact('old.contact_id')} END",
    f"CREATE TRIGGER inbox_search_identity_au AFTER UPDATE OF handle, display_name, contact_id ON crm_identity BEGIN "
    f"{_refresh_contact('old.contact_id')} {_refresh_contact('new.contact_id')} END",
    f"INSERT INTO {FTS}(rowid, meta, body) SELECT id, {_meta('inbox_conversation.id')}, "
    f"{_body('inbox_conversation.id')} FROM inbox_conversation",
    # the per-message index of 0002
    "DROP TRIGGER IF EXISTS inbox_message_fts_ai", "DROP TRIGGER IF EXISTS inbox_message_fts_ad",
    "DROP TRIGGER IF EXISTS inbox_message_fts_au", "DROP TABLE IF EXISTS inbox_message_fts",
]
SQLITE_TRIGGERS = [
    "inbox_search_conversation_ai", "inbox_search_conversation_au", "inbox_search_conversation_ad",
    "inbox_search_message_ai", "inbox_search_message_ad", "inbox_search_message_au", "inbox_search_contact_au",
    "inbox_search_identity_ai", "inbox_search_identity_ad", "inbox_search_identity_au",
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS] + [f"DROP TABLE IF EXISTS {FTS}"]

POSTGRES = [
    "CREATE TABLE inbox_conversation_search (conversation_id bigint PRIMARY KEY, document tsvector NOT NULL)",
    "CREATE INDEX inbox_conversation_search_document ON inbox_conversation_search USING GIN (document)",
    # PostgreSQL's parser keeps an email address, a host or a path as one token: split them into words as
    # SQLite's tokenizer does, so "anna.mueller@example.com" and "mueller" both find Anna.
    """CREATE FUNCTION inbox_search_vector(body text) RETURNS tsvector LANGUAGE sql IMMUTABLE AS $$
        SELECT to_tsvector('simple', translate(body, '@./:_-+', '       '))
    $$""",
    """CREATE FUNCTION inbox_search_document(cid bigint) RETURNS tsvector LANGUAGE sql STABLE AS $$
        SELECT inbox_search_vector(c.subject || ' ' || ct.name || ' ' || coalesce((
                   SELECT string_agg(i.handle || ' ' || i.display_name, ' ') FROM crm_identity i
                   WHERE i.contact_id = c.contact_id), ''))
               || inbox_search_vector(coalesce((SELECT string_agg(m.text, E'\\n' ORDER BY m.id)
                   FROM inbox_message m WHERE m.conversation_id = c.id), ''))
        FROM inbox_conversation c JOIN crm_contact ct ON ct.id = c.contact_id WHERE c.id = cid
    $$""",
    """CREATE FUNCTION inbox_search_refresh(cid bigint) RETURNS void LANGUAGE plpgsql AS $$
    DECLARE doc tsvector := inbox_search_document(cid);
    BEGIN
        IF doc IS NULL THEN
            DELETE FROM inbox_conversation_search WHERE conversation_id = cid;
        ELSE
            INSERT INTO inbox_conversation_search (conversation_id, document) VALUES (cid, doc)
            ON CONFLICT (conversation_id) DO UPDATE SET document = EXCLUDED.document;
        END IF;
    END $$""",
    """CREATE FUNCTION inbox_search_conversation_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            DELETE FROM inbox_conversation_search WHERE conversation_id = old.id;
        ELSIF TG_OP = 'INSERT' OR old.subject IS DISTINCT FROM new.subject
              OR old.contact_id IS DISTINCT FROM new.contact_id THEN
            PERFORM inbox_search_refresh(new.id);
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION inbox_search_message_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            IF new.text <> '' THEN
                UPDATE inbox_conversation_search SET document = document || inbox_search_vector(new.text)
                WHERE conversation_id = new.conversation_id;
                IF NOT FOUND THEN PERFORM inbox_search_refresh(new.conversation_id); END IF;
            END IF;
        ELSIF TG_OP = 'DELETE' THEN
            IF old.text <> '' THEN PERFORM inbox_search_refresh(old.conversation_id); END IF;
        ELSIF old.text IS DISTINCT FROM new.text OR old.conversation_id IS DISTINCT FROM new.conversation_id THEN
            PERFORM inbox_search_refresh(old.conversation_id);
            PERFORM inbox_search_refresh(new.conversation_id);
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION inbox_search_refresh_contact(contact bigint) RETURNS void LANGUAGE plpgsql AS $$
    DECLARE cid bigint;
    BEGIN
        FOR cid IN SELECT id FROM inbox_conversation WHERE contact_id = contact LOOP
            PERFORM inbox_search_refresh(cid);
        END LOOP;
    END $$""",
    """CREATE FUNCTION inbox_search_contact_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF old.name IS DISTINCT FROM new.name THEN PERFORM inbox_search_refresh_contact(new.id); END IF;
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION inbox_search_identity_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN PERFORM inbox_search_refresh_contact(old.contact_id); END IF;
        IF TG_OP <> 'DELETE' THEN PERFORM inbox_search_refresh_contact(new.contact_id); END IF;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER inbox_search_conversation AFTER INSERT OR DELETE OR UPDATE OF subject, contact_id "
    "ON inbox_conversation FOR EACH ROW EXECUTE FUNCTION inbox_search_conversation_trigger()",
    "CREATE TRIGGER inbox_search_message AFTER INSERT OR DELETE OR UPDATE OF text, conversation_id "
    "ON inbox_message FOR EACH ROW EXECUTE FUNCTION inbox_search_message_trigger()",
    "CREATE TRIGGER inbox_search_contact AFTER UPDATE OF name ON crm_contact "
    "FOR EACH ROW EXECUTE FUNCTION inbox_search_contact_trigger()",
    "CREATE TRIGGER inbox_search_identity AFTER INSERT OR DELETE OR UPDATE OF handle, display_name, contact_id "
    "ON crm_identity FOR EACH ROW EXECUTE FUNCTION inbox_search_identity_trigger()",
    "INSERT INTO inbox_conversation_search (conversation_id, document) "
    "SELECT id, inbox_search_document(id) FROM inbox_conversation",
    "DROP INDEX IF EXISTS inbox_message_text_fts",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS inbox_search_conversation ON inbox_conversation",
    "DROP TRIGGER IF EXISTS inbox_search_message ON inbox_message",
    "DROP TRIGGER IF EXISTS inbox_search_contact ON crm_contact",
    "DROP TRIGGER IF EXISTS inbox_search_identity ON crm_identity",
    "DROP FUNCTION IF EXISTS inbox_search_conversation_trigger()", "DROP FUNCTION IF EXISTS inbox_search_message_trigger()",
    "DROP FUNCTION IF EXISTS inbox_search_contact_trigger()", "DROP FUNCTION IF EXISTS inbox_search_identity_trigger()",
    "DROP FUNCTION IF EXISTS inbox_search_refresh_contact(bigint)", "DROP FUNCTION IF EXISTS inbox_search_refresh(bigint)",
    "DROP FUNCTION IF EXISTS inbox_search_document(bigint)",
    "DROP FUNCTION IF EXISTS inbox_search_vector(text)", "DROP TABLE IF EXISTS inbox_conversation_search",
]


def forwards(apps, schema_editor):
    statements = {"sqlite": SQLITE, "postgresql": POSTGRES}.get(schema_editor.connection.vendor, [])
    for sql in statements:
        schema_editor.execute(sql, params=None)


def backwards(apps, schema_editor):
    from importlib import import_module

    previous = import_module("resonanz.inbox.migrations.0002_message_fulltext")
    drop = {"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}.get(schema_editor.connection.vendor, [])
    restore = {"sqlite": previous.SQLITE, "postgresql": previous.POSTGRES}.get(schema_editor.connection.vendor, [])
    for sql in drop + restore:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("inbox", "0009_conversation_thread_key"), ("crm", "0002_not_duplicate")]
    operations = [migrations.RunPython(forwards, backwards)]
