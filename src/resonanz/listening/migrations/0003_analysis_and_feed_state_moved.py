# The analysis columns moved to understanding.Analysis, the feed state to connectors.SourceState.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('connectors', '0004_channel_kind_registry_sourcestate'),
        ('listening', '0002_post_pipeline'),
        ('understanding', '0002_analysis_of_messages_and_posts'),
    ]

    operations = [
        migrations.RemoveIndex(model_name='post', name='post_unanalyzed'),
        migrations.RemoveField(model_name='post', name='analysis'),
        migrations.RemoveField(model_name='post', name='analyzed_at'),
        migrations.RemoveField(model_name='post', name='intent_labels'),
        migrations.RemoveField(model_name='post', name='language'),
        migrations.RemoveField(model_name='post', name='relevance'),
        migrations.RemoveField(model_name='post', name='sentiment'),
        migrations.RemoveField(model_name='post', name='sentiment_score'),
        migrations.DeleteModel(name='FeedState'),
    ]
