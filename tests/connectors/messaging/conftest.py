"""Local servers that speak the documented APIs of the commercial messaging platforms (tests/support/)."""

from tests.support.whatsapp.fixtures import wa_channel, whatsapp  # noqa: F401
