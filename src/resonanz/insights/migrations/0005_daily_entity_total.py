from django.db import migrations, models


def fill_from_daily_entities(apps, schema_editor):
    """The days already counted get their totals from their entity rows at once: the dashboard reads the new
    table as soon as it exists, and the sums equal what it read before (no ``resonanz insights days`` needed)."""
    total = apps.get_model("insights", "DailyEntityTotal")._meta.db_table
    daily = apps.get_model("insights", "DailyEntityRollup")._meta.db_table
    key = "day, query_id, kind, entity, sentiment"
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {total} ({key}, n) SELECT {key}, SUM(n) FROM {daily} GROUP BY {key}")


class Migration(migrations.Migration):

    dependencies = [
        ('insights', '0004_urgency_entities'),
    ]

    operations = [
        migrations.CreateModel(
            name='DailyEntityTotal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('query_id', models.IntegerField(default=0)),
                ('kind', models.CharField(max_length=12)),
                ('entity', models.CharField(max_length=120)),
                ('sentiment', models.CharField(max_length=10)),
                ('n', models.PositiveIntegerField()),
            ],
            options={
                'indexes': [models.Index(fields=['query_id', 'day'], name='dailyentitytotal_query_day')],
                'constraints': [models.UniqueConstraint(fields=('day', 'query_id', 'kind', 'entity', 'sentiment'), name='dailyentitytotal_unique_cell')],
            },
        ),
        migrations.RunPython(fill_from_daily_entities, migrations.RunPython.noop),
    ]
