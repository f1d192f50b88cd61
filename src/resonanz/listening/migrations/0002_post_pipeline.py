# Posts go through the same pipeline as messages: they get its state (pending until analysed and routed)
# and the author's reach.

from django.db import migrations, models


def set_states(apps, schema_editor):
    Post = apps.get_model("listening", "Post")
    Post.objects.filter(analyzed_at__isnull=True).update(pipeline_state="pending")
    Post.objects.filter(analyzed_at__isnull=False).update(pipeline_state="done")


class Migration(migrations.Migration):

    dependencies = [
        ('listening', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='post',
            name='pipeline_state',
            field=models.CharField(choices=[('pending', 'Pending'), ('running', 'Running'), ('done', 'Done'), ('failed', 'Failed'), ('skipped', 'Not needed')], default='skipped', max_length=10),
        ),
        migrations.AddField(
            model_name='post',
            name='pipeline_claimed_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='post',
            name='pipeline_error',
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name='post',
            name='reach',
            field=models.PositiveIntegerField(blank=True, help_text="The author's followers, where the source says.", null=True, verbose_name='reach'),
        ),
        migrations.AddIndex(
            model_name='post',
            index=models.Index(condition=models.Q(('pipeline_state__in', ['pending', 'running'])), fields=['pipeline_state'], name='post_pipeline'),
        ),
        migrations.RunPython(set_states, migrations.RunPython.noop),
    ]
