"""Plain-SQL versions of the two ORM calls on ingestion's hot path.

On this project's 2-core machines Django spends about thirty times longer building an INSERT
than the database spends running it. ``insert()`` keeps the ORM's meaning (each field's
``pre_save`` and ``get_db_prep_save``, so defaults, ``auto_now_add`` and JSON behave the same)
and only skips the query compiler. Use it where throughput is measured, nowhere else.
"""

from __future__ import annotations

from functools import lru_cache

from django.db import connection, models
from django.db.models import Model
from django.utils import timezone


@lru_cache(maxsize=32)
def _statement(model: type[Model], returning: bool) -> tuple[str, tuple]:
    fields = tuple(f for f in model._meta.concrete_fields if not f.primary_key)
    qn = connection.ops.quote_name
    sql = (f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "
           f"VALUES ({', '.join(['%s'] * len(fields))})")
    if returning:
        sql += f" RETURNING {qn(model._meta.pk.column)}"
    return sql, fields


def insert(instance: Model) -> Model:
    """INSERT ``instance`` and set its primary key, as ``instance.save()`` would for a new row."""
    returning = connection.features.can_return_columns_from_insert
    sql, fields = _statement(type(instance), returning)
    params = [f.get_db_prep_save(f.pre_save(instance, True), connection=connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        pk = cursor.fetchone()[0] if returning else cursor.lastrowid
    instance.pk = pk
    instance._state.adding = False
    instance._state.db = connection.alias
    return instance


def _adapters(model: type[Model], fields: list) -> list:
    """Per field, how a Python value becomes a database value: plain values pass through (they already are
    one), datetimes and JSON are adapted, ``auto_now``/``auto_now_add`` get one timestamp per batch."""
    ops = connection.ops
    stamp = ops.adapt_datetimefield_value(timezone.now())
    adapters = []
    for f in fields:
        if isinstance(f, models.DateTimeField):
            if f.auto_now or f.auto_now_add:
                adapters.append(lambda value: stamp)
            else:
                adapters.append(lambda value: None if value is None else ops.adapt_datetimefield_value(value))
        elif isinstance(f, models.JSONField | models.FileField):
            adapters.append(lambda value, f=f: f.get_db_prep_save(value, connection))
        else:
            adapters.append(None)
    return adapters


def insert_many(model: type[Model], objs: list, chunk: int = 400) -> None:
    """What ``bulk_create`` does (multi-row INSERT … RETURNING id, ids set on the objects), with a cheaper
    preparation of values (see ``_adapters``): on imports the ORM's per-field preparation was the largest
    cost. Related objects saved earlier in the batch lend their ids, as in ``bulk_create``."""
    if not objs:
        return
    if not connection.features.can_return_rows_from_bulk_insert:
        for obj in objs:  # databases that cannot return ids from a multi-row insert
            insert(obj)
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    for obj in objs:
        for f in fields:
            if f.is_relation and getattr(obj, f.attname) is None and f.is_cached(obj):
                related = f.get_cached_value(obj)
                if related is not None:
                    setattr(obj, f.attname, related.pk)
    adapters = _adapters(model, fields)
    names = [f.attname for f in fields]
    qn = connection.ops.quote_name
    head = (f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) VALUES ")
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(objs), chunk):
            part = objs[start:start + chunk]
            params = []
            for obj in part:
                for name, adapt in zip(names, adapters, strict=True):
                    value = getattr(obj, name)
                    params.append(adapt(value) if adapt else value)
            cursor.execute(head + ", ".join([one] * len(part)) + f" RETURNING {qn(model._meta.pk.column)}", params)
            for obj, (new_id,) in zip(part, cursor.fetchall(), strict=True):
                obj.pk = new_id
                obj._state.adding = False
                obj._state.db = connection.alias
