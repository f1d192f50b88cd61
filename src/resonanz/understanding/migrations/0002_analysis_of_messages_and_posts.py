# One analysed-item shape: the analysis of a message and of a public post are rows of one table
# (MessageAnalysis becomes Analysis, linked to a message or a post); the analyses kept in columns on
# listening.Post move into it.

import django.db.models.deletion
from django.db import migrations, models


def copy_post_analyses(apps, schema_editor):
    Post = apps.get_model("listening", "Post")
    Analysis = apps.get_model("understanding", "Analysis")
    batch = []
    # Plain values: in this state the post's old "analysis" column and the new reverse link share a name.
    rows = Post.objects.filter(analyzed_at__isnull=False).values(
        "pk", "language", "sentiment", "sentiment_score", "relevance", "intent_labels", "analysis")
    for post in rows.iterator():
        result = post["analysis"] or {}
        labels = [i for i in (post["intent_labels"] or "").split(",") if i]
        complexity = result.get("complexity") or {}
        batch.append(Analysis(
            post_id=post["pk"], language=post["language"] or (result.get("language") or {}).get("code", "other"),
            sentiment=post["sentiment"] or "neutral", sentiment_score=post["sentiment_score"] or 0.0,
            sentiment_confidence=float((result.get("sentiment") or {}).get("confidence") or 0.0),
            intent_labels="," + ",".join(labels) + "," if labels else "",
            urgency=float(result.get("urgency") or 0.0), complexity=complexity.get("label") or "simple",
            bot_answerable=bool(complexity.get("bot_answerable")), relevance=post["relevance"] or 0.0,
            result=result, model_version=str(result.get("model_version") or "")[:80],
        ))
        if len(batch) >= 500:
            Analysis.objects.bulk_create(batch)
            batch = []
    Analysis.objects.bulk_create(batch)
    # analyzed_at is auto_now: keep the time the post was really read
    for post_id, analyzed_at in Post.objects.filter(analyzed_at__isnull=False).values_list("pk", "analyzed_at"):
        Analysis.objects.filter(post_id=post_id).update(analyzed_at=analyzed_at)


def copy_back(apps, schema_editor):
    Post = apps.get_model("listening", "Post")
    Analysis = apps.get_model("understanding", "Analysis")
    for a in Analysis.objects.filter(post__isnull=False).iterator():
        Post.objects.filter(pk=a.post_id).update(
            language=a.language, sentiment=a.sentiment, sentiment_score=a.sentiment_score, relevance=a.relevance,
            intent_labels=a.intent_labels.strip(","), analysis=a.result, analyzed_at=a.analyzed_at)
    Analysis.objects.filter(post__isnull=False).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('inbox', '0002_message_fulltext'),
        ('listening', '0002_post_pipeline'),
        ('understanding', '0001_initial'),
    ]

    operations = [
        migrations.RenameModel(old_name='MessageAnalysis', new_name='Analysis'),
        migrations.AlterModelOptions(name='analysis', options={'verbose_name_plural': 'analyses'}),
        migrations.AlterField(
            model_name='analysis',
            name='message',
            field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='analysis', to='inbox.message'),
        ),
        migrations.AddField(
            model_name='analysis',
            name='post',
            field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='analysis', to='listening.post'),
        ),
        migrations.AddField(
            model_name='analysis',
            name='text_hash',
            field=models.CharField(blank=True, max_length=40),
        ),
        migrations.AddIndex(
            model_name='analysis',
            index=models.Index(fields=['analyzed_at'], name='analysis_time'),
        ),
        migrations.AddConstraint(
            model_name='analysis',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('message__isnull', False), ('post__isnull', True)), models.Q(('message__isnull', True), ('post__isnull', False)), _connector='OR'), name='analysis_of_message_or_post'),
        ),
        # data last: PostgreSQL refuses to alter a table with pending foreign-key checks in the same transaction
        migrations.RunPython(copy_post_analyses, copy_back),
    ]
