"""Sending an outbound message through its channel's driver.

The channel decides how a message goes out and whether a failure is passing (a refused SMTP
connection, a 429 from a platform: "retry") or final. After ``MAX_ATTEMPTS`` passing failures the
message fails for good, with the reason, so it never waits in a queue forever. The inbox records
whatever comes back (``inbox.delivery.record_delivery``).
"""

from __future__ import annotations

import logging

from resonanz.connectors.actions import record_token_works
from resonanz.connectors.drivers import SendResult, get_driver

log = logging.getLogger("resonanz.connectors.delivery")
MAX_ATTEMPTS = 5


def attempt(message, attempts_so_far: int = 0) -> SendResult:
    """One try to send ``message``; never raises (a driver's exception is the message's failure)."""
    try:
        result = get_driver(message.channel).send(message)
    except Exception as exc:
        log.exception("delivery of message %s failed", message.pk)
        return SendResult("failed", detail=str(exc)[:2000])
    if result.status == "sent":
        record_token_works(message.channel)
    if result.status == "retry" and attempts_so_far + 1 >= MAX_ATTEMPTS:
        return SendResult("failed", external_id=result.external_id,
                          detail=f"gave up after {attempts_so_far + 1} attempts: {result.detail}")
    return result
