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


def _load_builtin() -> None:
    from resonanz.connectors.drivers import api, web_form  # noqa: F401


__all__ = ["Driver", "DriverError", "SendResult", "get_driver", "kinds", "register"]
