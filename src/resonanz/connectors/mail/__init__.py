"""Mail mechanics of the email channel, kept apart from Django so they can be tested on bytes alone.

- ``parse``: raw RFC 5322 bytes to a ``ParsedMail`` (never raises, never refuses, whatever arrives)
- ``headers``: the header block read leniently, encoded words, Message-IDs, the content fingerprint
- ``addresses``: the sender, recovered from wherever the headers hold it
- ``charsets``: text from bytes whatever charset was claimed or left out
- ``mime``: the displayed body in order, attachments, bounce reports
- ``privacy``: remote images in HTML blocked until an agent asks for them
- ``noise``: auto-replies, bounces, notices, mailing lists and our own mail, never answered automatically
- ``compose``: the outbound reply with the headers that thread it in the customer's mail client
- ``transport``: IMAP and SMTP connections (SSL, STARTTLS or plain) and readable connection errors
"""
