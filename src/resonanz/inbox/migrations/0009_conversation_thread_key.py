"""Public conversations per post or thread root (``Conversation.thread_key``).

Stored public conversations get the thread their first customer message names where that message says it:
the commented post of a Facebook or Instagram comment (``meta.meta.post_id``), a Bluesky post that starts its
thread (its own address). Others keep "" and are joined only by replies to their messages, so
after the upgrade a person's next public item under a post starts that post's conversation."""

from django.db import migrations, models


def mark_threads(apps, schema_editor):
    Conversation = apps.get_model("inbox", "Conversation")
    Message = apps.get_model("inbox", "Message")
    public = Conversation.objects.filter(is_public=True, thread_key="").values_list("pk", flat=True).iterator()
    batch: list[int] = []
    for pk in public:
        batch.append(pk)
        if len(batch) == 500:
            _mark(Conversation, Message, batch)
            batch = []
    if batch:
        _mark(Conversation, Message, batch)


def _mark(Conversation, Message, ids: list[int]) -> None:
    first: dict[int, dict] = {}
    for conversation_id, meta, in_reply_to in (Message.objects.filter(conversation_id__in=ids, direction="inbound")
                                               .order_by("sent_at", "id")
                                               .values_list("conversation_id", "meta", "in_reply_to")):
        first.setdefault(conversation_id, {"meta": meta or {}, "in_reply_to": in_reply_to or ""})
    for conversation_id, found in first.items():
        meta = found["meta"]
        key = ""
        graph = meta.get("meta") if isinstance(meta.get("meta"), dict) else {}
        if graph.get("kind") == "comment" and graph.get("post_id"):
            key = str(graph["post_id"])
        elif meta.get("network") == "bluesky" and meta.get("uri") and not found["in_reply_to"]:
            key = str(meta["uri"])  # a post that starts its thread (a reply's root was not kept before)
        if key:
            Conversation.objects.filter(pk=conversation_id).update(thread_key=key[:300])


class Migration(migrations.Migration):

    dependencies = [
        ('inbox', '0008_early_receipt'),
    ]

    operations = [
        migrations.AddField(
            model_name='conversation',
            name='thread_key',
            field=models.CharField(blank=True, default='', help_text='The post or thread root a public conversation is about (its id on the platform).', max_length=300, verbose_name='thread'),
        ),
        migrations.RunPython(mark_threads, migrations.RunPython.noop),
    ]
