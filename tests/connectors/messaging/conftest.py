"""Local servers that speak the documented APIs of the commercial messaging platforms (tests/support/)."""

from tests.support.messenger.fixtures import fb_channel, messenger  # noqa: F401, E402
from tests.support.telegram.fixtures import telegram, tg_channel, tg_polling  # noqa: F401, E402
from tests.support.whatsapp.fixtures import wa_channel, whatsapp  # noqa: F401
from tests.support.x.fixtures import x_channel, xapi  # noqa: F401, E402
