"""Reading a multipart/form-data request body in the local platform servers (media uploads)."""

from __future__ import annotations

from email.parser import BytesParser
from email.policy import HTTP


def parse(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, tuple[str, bytes, str]]]:
    """(fields, files): form fields as text, files as (filename, content, content type) by field name."""
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, bytes, str]] = {}
    if not message.is_multipart():
        return fields, files
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        content = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            files[name] = (filename, content, part.get_content_type())
        else:
            fields[name] = content.decode("utf-8", "replace")
    return fields, files
