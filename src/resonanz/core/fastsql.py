"""Plain-SQL versions of the two ORM calls on ingestion's hot path.

On this project's 2-core machines Django spends about thirty times longer building an INSERT
than the database spends running it. ``insert()`` keeps the ORM's meaning (each field's
``pre_save`` and ``get_db_prep_save``, so defaults, ``auto_now_add`` and JSON behave the same)
and only skips the query compiler. Use it where throughput is measured, nowhere else.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from functools import lru_cache

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models import Model, signals
from django.db.models.base import ModelState
from django.db.models.fields import NOT_PROVIDED
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


@lru_cache(maxsize=32)
def _plan(model: type[Model]) -> tuple[tuple, tuple, str, str, tuple]:
    """What every INSERT of ``model`` shares, worked out once: its fields, their attribute names, the
    statement's head and one row's placeholders, and per field how a value is adapted (see ``_adapters``)."""
    fields = tuple(f for f in model._meta.concrete_fields if not f.primary_key)
    qn = connection.ops.quote_name
    head = f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) VALUES "
    kinds = []
    for f in fields:
        if isinstance(f, models.DateTimeField):
            kinds.append(("stamp",) if f.auto_now or f.auto_now_add else ("time",))
        elif isinstance(f, models.JSONField):  # plain values only on this path: no expressions to compile
            kinds.append(("json", f.encoder))
        elif isinstance(f, models.FileField):
            kinds.append(("file", f))
        else:
            kinds.append(None)
    return (fields, tuple(f.attname for f in fields), head, "(" + ", ".join(["%s"] * len(fields)) + ")",
            tuple(kinds))


def _adapters(kinds: tuple) -> list:
    """Per field, how a Python value becomes a database value: plain values pass through (they already are
    one), datetimes and JSON are adapted, ``auto_now``/``auto_now_add`` get one timestamp per batch."""
    ops = connection.ops
    stamp = ops.adapt_datetimefield_value(timezone.now()) if ("stamp",) in kinds else None
    adapt_time = _datetime_adapter()
    adapters = []
    for kind in kinds:
        if kind is None:
            adapters.append(None)
        elif kind[0] == "stamp":
            adapters.append(lambda value: stamp)
        elif kind[0] == "time":
            adapters.append(adapt_time)
        elif kind[0] == "json":
            adapters.append(lambda value, enc=kind[1]: None if value is None else ops.adapt_json_value(value, enc))
        else:
            adapters.append(lambda value, f=kind[1]: f.get_db_prep_save(value, connection))
    return adapters


def _datetime_adapter():
    """SQLite stores UTC datetimes as text; Django's adapter gets there through settings and zone lookups per
    value. The same text, computed directly (naive values are stored as they are, as Django does)."""
    ops = connection.ops
    if connection.vendor != "sqlite" or str(connection.timezone) != "UTC":
        return lambda value: None if value is None else ops.adapt_datetimefield_value(value)

    def adapt(value):
        if value is None or value.tzinfo is None:
            return None if value is None else str(value)
        return str(value.astimezone(UTC).replace(tzinfo=None))
    return adapt


def insert_many(model: type[Model], objs: list, chunk: int = 400) -> None:
    """What ``bulk_create`` does (multi-row INSERT … RETURNING id, ids set on the objects), with a cheaper
    preparation of values (see ``_adapters``): on imports the ORM's per-field preparation was the largest
    cost, and on a webhook's single message the statement's text (now planned once per model, ``_plan``).
    Related objects saved earlier in the batch lend their ids, as in ``bulk_create``."""
    if not objs:
        return
    db = connections[DEFAULT_DB_ALIAS]  # the connection itself: each ``connection.x`` goes through a proxy
    if not db.features.can_return_rows_from_bulk_insert:
        for obj in objs:  # databases that cannot return ids from a multi-row insert
            insert(obj)
        return
    fields, names, head, one, kinds = _plan(model)
    relations = [f for f in fields if f.is_relation]
    for obj in objs:
        for f in relations:
            if getattr(obj, f.attname) is None and f.is_cached(obj):
                related = f.get_cached_value(obj)
                if related is not None:
                    setattr(obj, f.attname, related.pk)
    adapters = _adapters(kinds)
    pairs = list(zip(names, adapters, strict=True))
    returning = f" RETURNING {db.ops.quote_name(model._meta.pk.column)}"
    with db.cursor() as cursor:
        for start in range(0, len(objs), chunk):
            part = objs[start:start + chunk]
            params = []
            for obj in part:
                for name, adapt in pairs:
                    value = getattr(obj, name)
                    params.append(adapt(value) if adapt else value)
            cursor.execute(head + ", ".join([one] * len(part)) + returning, params)
            for obj, (new_id,) in zip(part, cursor.fetchall(), strict=True):
                obj.pk = new_id
                obj._state.adding = False
                obj._state.db = db.alias


@lru_cache(maxsize=32)
def _columns(model: type[Model]) -> tuple[str, tuple, tuple]:
    """Every concrete column of ``model`` for a SELECT, the attribute names and each column's converters."""
    fields = tuple(model._meta.concrete_fields)
    qn = connection.ops.quote_name
    converters = []
    for f in fields:
        col = f.get_col(model._meta.db_table)
        found = connection.ops.get_db_converters(col) + f.get_db_converters(connection)
        converters.append((col, tuple(found)))
    return ", ".join(qn(f.column) for f in fields), tuple(f.attname for f in fields), tuple(converters)


def _instance(model: type[Model], names: tuple, converters: tuple, row) -> Model:
    values = []
    for raw, (col, funcs) in zip(row, converters, strict=True):
        for convert in funcs:
            raw = convert(raw, col, connection)
        values.append(raw)
    if signals.pre_init.has_listeners(model) or signals.post_init.has_listeners(model):
        return model.from_db(connection.alias, list(names), values)
    # what from_db does for a full row, without Model.__init__ (its per-field descriptor walk was the largest
    # cost of loading a batch's open conversations); nobody listens to this model's init signals
    obj = model.__new__(model)
    state = obj._state = ModelState()
    state.adding, state.db = False, connection.alias
    obj.__dict__.update(zip(names, values, strict=True))
    return obj


def get(model: type[Model], field_name: str, value) -> Model | None:
    """The row whose unique ``field_name`` is ``value`` (or None), as ``Model.objects.filter(...).first()``
    returns it, without the query compiler: the webhook route looks a channel up on every request, and
    compiling that SELECT cost more than the rest of the lookup (``bench/webhook_intake.py``)."""
    found = select(model, f"{connection.ops.quote_name(model._meta.get_field(field_name).column)} = %s", [value])
    return found[0] if found else None


def select(model: type[Model], where: str, params: list) -> list[Model]:
    """Instances of ``model`` for ``SELECT <all columns> FROM <table> WHERE <where>`` (which may go on with
    ORDER BY or FOR UPDATE), converted as the ORM converts them, without compiling a query."""
    columns, names, converters = _columns(model)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {connection.ops.quote_name(model._meta.db_table)} WHERE {where}",
                       params)
        rows = cursor.fetchall()
    return [_instance(model, names, converters, row) for row in rows]


@lru_cache(maxsize=32)
def _defaults(model: type[Model]) -> tuple[dict, tuple]:
    static, dynamic = {}, []
    for f in model._meta.concrete_fields:
        if f.default is not NOT_PROVIDED and callable(f.default):
            dynamic.append((f.attname, f.default))
        else:
            static[f.attname] = f.get_default()
    return static, tuple(dynamic)


def build(model: type[Model], **values) -> Model:
    """A new, unsaved instance, as ``model(**values)`` builds it for plain field values (attnames such as
    ``channel_id``; related objects by ``<name>=obj`` are cached as the ORM would). Model.__init__ walks
    every field with descriptors and signals and was the largest cost of a batch of messages."""
    static, dynamic = _defaults(model)
    obj = model.__new__(model)
    state = obj._state = ModelState()
    data = dict(static)
    for attname, default in dynamic:
        if attname not in values:
            data[attname] = default()
    for name, value in values.items():
        if isinstance(value, Model):  # a related object: its id in the column, the object in the cache
            field = model._meta.get_field(name)
            data[field.attname] = value.pk
            state.fields_cache[name] = value
        else:
            data[name] = value
    obj.__dict__.update(data)
    return obj


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection while a batch builds thousands of short-lived objects: each full
    collection walks the whole heap of a Django process (~200k objects), and a batch of 500 messages
    triggered several. Reference counting still frees everything; the collector runs again afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
