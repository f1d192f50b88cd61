"""Mail mechanics of the email channel, kept apart from Django so they can be tested on bytes alone.

- ``parse``: raw RFC 5322 bytes to a ``ParsedMail`` (never raises, whatever arrives)
- ``noise``: auto-replies, bounces, mailing lists and our own mail, which must never become conversations
- ``compose``: the outbound reply with the headers that thread it in the customer's mail client
- ``transport``: IMAP and SMTP connections (SSL, STARTTLS or plain) and readable connection errors
"""
