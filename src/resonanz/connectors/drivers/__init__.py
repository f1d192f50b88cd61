"""One driver module per channel kind; the registry maps a kind to its driver class."""

from __future__ import annotations

from resonanz.connectors.drivers.base import Driver, DriverError, SendResult

_REGISTRY: dict[str, type[Driver]] = {}


def register(kind: str):
    def wrap(cls: type[Driver]) -> type[Driver]:
        cls.kind = kind
        _REGISTRY[kind] = cls
        return cls

    return wrap


def get_driver(channel) -> Driver:
    _load_builtin()
    try:
        cls = _REGISTRY[channel.kind]
    except KeyError:
        raise DriverError(f"No driver for channel kind {channel.kind!r}") from None
    return cls(channel)


def kinds() -> list[str]:
    _load_builtin()
    return sorted(_REGISTRY)


_loaded = False


def _load_builtin() -> None:
    """Import every driver module of this package once; each registers its kind."""
    global _loaded
    if _loaded:
        return
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        if module.name != "base":
            importlib.import_module(f"{__name__}.{module.name}")
    _loaded = True


__all__ = ["Driver", "DriverError", "SendResult", "get_driver", "kinds", "register"]
