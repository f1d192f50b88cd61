"""The driver registry: the only list of channel kinds.

Every module in this package registers one kind with ``@register("kind")``. The Channel model
stores the kind as a plain string validated against this registry, so a new kind needs no
migration: adding one is a new module here plus its tests.
"""

from __future__ import annotations

import importlib
import pkgutil

from django.core.exceptions import ValidationError

from resonanz.connectors.drivers.base import Driver, DriverError, SendResult

_REGISTRY: dict[str, type[Driver]] = {}
_loaded = False


def register(kind: str):
    def wrap(cls: type[Driver]) -> type[Driver]:
        cls.kind = kind
        _REGISTRY[kind] = cls
        return cls

    return wrap


def driver_class(kind: str) -> type[Driver]:
    _load_builtin()
    try:
        return _REGISTRY[kind]
    except KeyError:
        raise DriverError(f"No driver for channel kind {kind!r}") from None


def get_driver(channel) -> Driver:
    return driver_class(channel.kind)(channel)


def kinds() -> list[str]:
    _load_builtin()
    return sorted(_REGISTRY)


def choices() -> list[tuple[str, str]]:
    """(kind, label) pairs for forms and the API schema."""
    _load_builtin()
    return [(kind, str(_REGISTRY[kind].label or kind)) for kind in sorted(_REGISTRY)]


def label_for(kind: str) -> str:
    _load_builtin()
    cls = _REGISTRY.get(kind)
    return str(cls.label or kind) if cls else kind


def validate_kind(value: str) -> None:
    """Model and form validator: the kind must be one a driver registered."""
    if value not in kinds():
        raise ValidationError(f"Unknown channel kind {value!r}; available: {', '.join(kinds())}.")


def _load_builtin() -> None:
    """Import every driver module of this package once; each registers its kind."""
    global _loaded
    if _loaded:
        return
    for module in pkgutil.iter_modules(__path__):
        if module.name != "base":
            importlib.import_module(f"{__name__}.{module.name}")
    _loaded = True


__all__ = ["Driver", "DriverError", "SendResult", "choices", "driver_class", "get_driver", "kinds", "label_for",
           "register", "validate_kind"]
