# The channel kind is validated against the driver registry instead of model choices (no migration per
# new kind), and the fetch state of listening feeds becomes the channel's SourceState (any polled source).

import django.db.models.deletion
from django.db import migrations, models

import resonanz.connectors.drivers


def copy_feed_states(apps, schema_editor):
    FeedState = apps.get_model("listening", "FeedState")
    SourceState = apps.get_model("connectors", "SourceState")
    SourceState.objects.bulk_create([
        SourceState(channel_id=f.channel_id, key=f.url, title=f.title,
                    cursor={"etag": f.etag, "last_modified": f.last_modified}, final_url=f.final_url,
                    last_fetched_at=f.last_fetched_at, last_status=f.last_status, last_ok_at=f.last_ok_at,
                    last_error=f.last_error, last_error_at=f.last_error_at,
                    consecutive_errors=f.consecutive_errors, items_seen=f.entries_seen)
        for f in FeedState.objects.all().iterator()
    ], batch_size=500)


def copy_back(apps, schema_editor):
    FeedState = apps.get_model("listening", "FeedState")
    SourceState = apps.get_model("connectors", "SourceState")
    for s in SourceState.objects.all().iterator():
        FeedState.objects.update_or_create(channel_id=s.channel_id, url=s.key, defaults=dict(
            title=s.title, etag=(s.cursor or {}).get("etag", ""),
            last_modified=(s.cursor or {}).get("last_modified", ""), final_url=s.final_url,
            last_fetched_at=s.last_fetched_at, last_status=s.last_status, last_ok_at=s.last_ok_at,
            last_error=s.last_error, last_error_at=s.last_error_at, consecutive_errors=s.consecutive_errors,
            entries_seen=s.items_seen))


class Migration(migrations.Migration):

    dependencies = [
        ('connectors', '0003_channel_kinds_polling'),
        ('listening', '0001_initial'),
    ]

    operations = [
        migrations.AlterField(
            model_name='channel',
            name='kind',
            field=models.CharField(max_length=30, validators=[resonanz.connectors.drivers.validate_kind], verbose_name='kind'),
        ),
        migrations.CreateModel(
            name='SourceState',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.CharField(help_text='The URL or name of the source.', max_length=2000)),
                ('title', models.CharField(blank=True, max_length=300)),
                ('cursor', models.JSONField(blank=True, default=dict, help_text='Validators and ids to continue from.')),
                ('final_url', models.CharField(blank=True, help_text='Where a permanent redirect leads.', max_length=2000)),
                ('last_fetched_at', models.DateTimeField(blank=True, null=True)),
                ('last_status', models.PositiveIntegerField(blank=True, null=True)),
                ('last_ok_at', models.DateTimeField(blank=True, null=True)),
                ('last_error', models.TextField(blank=True)),
                ('last_error_at', models.DateTimeField(blank=True, null=True)),
                ('consecutive_errors', models.PositiveIntegerField(default=0)),
                ('items_seen', models.PositiveIntegerField(default=0)),
                ('channel', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='sources', to='connectors.channel')),
            ],
            options={
                'ordering': ['channel', 'key'],
                'constraints': [models.UniqueConstraint(fields=('channel', 'key'), name='sourcestate_unique_channel_key')],
            },
        ),
        migrations.RunPython(copy_feed_states, copy_back),
    ]
