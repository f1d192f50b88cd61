"""Files agents attach to replies and customers attach to the contact form: which types, how large, and the
refusal a user reads when one does not fit.

The content type is taken from the file name's extension (what a browser claims is not trusted), and only
types customers can open safely are accepted: documents, spreadsheets, images, text, archives; never
programs, scripts or HTML. The same limits apply in the desk, the API, the public contact form and the
browser's early check (``limits()`` is handed to the page). Files from customers are also checked by their
content (``content_matches``): a program renamed to ``rechnung.pdf`` is refused before an agent opens it.
"""

from __future__ import annotations

import math
import mimetypes
import os

from django.utils import formats
from django.utils.translation import gettext as _

from resonanz.core.errors import ActionError
from resonanz.core.sanitize import clean_text

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_TOTAL_BYTES = 20 * 1024 * 1024
MAX_FILES = 10
#: files a customer may attach to one contact-form message (same per-file and total limits as a reply)
MAX_FORM_FILES = 5
TYPES = {
    "pdf": "application/pdf", "txt": "text/plain", "csv": "text/csv", "md": "text/markdown",
    "rtf": "application/rtf", "ics": "text/calendar", "eml": "message/rfc822", "json": "application/json",
    "xml": "application/xml", "zip": "application/zip",
    "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp",
    "heic": "image/heic",
    "doc": "application/msword", "xls": "application/vnd.ms-excel", "ppt": "application/vnd.ms-powerpoint",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text", "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
}


# The first bytes every file of a type starts with; text types are checked as text instead (``_is_text``).
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
_OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)  # the old Office formats
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "pdf": (b"%PDF-",), "png": (b"\x89PNG\r\n\x1a\n",), "jpg": (b"\xff\xd8\xff",), "jpeg": (b"\xff\xd8\xff",),
    "gif": (b"GIF87a", b"GIF89a"), "rtf": (b"{\\rtf",), "zip": _ZIP,
    "docx": _ZIP, "xlsx": _ZIP, "pptx": _ZIP, "odt": _ZIP, "ods": _ZIP, "odp": _ZIP,
    "doc": _OLE, "xls": _OLE, "ppt": _OLE,
}
TEXT_TYPES = {"txt", "csv", "md", "ics", "eml", "json", "xml"}
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
# Programs without NUL bytes near the start (the NUL check catches Windows programs): Linux and macOS ones.
_NOT_TEXT = (b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe")


def limits(*, max_files: int = MAX_FILES) -> dict:
    return {"max_file": MAX_FILE_BYTES, "max_total": MAX_TOTAL_BYTES, "max_files": max_files,
            "extensions": sorted(TYPES)}


def _is_text(head: bytes) -> bool:
    """Text in any common encoding: no NUL bytes (UTF-16 is refused, it is rare in mails and forms), hardly any
    control characters, and not a program."""
    if not head:
        return False
    if head.startswith(_NOT_TEXT) or b"\x00" in head:
        return False
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13, 27))
    return controls <= len(head) // 50


def content_matches(extension: str, content: bytes) -> bool:
    """Whether the file's first bytes are what a file of its extension starts with."""
    head = content[:8192]
    if extension in TEXT_TYPES:
        return _is_text(head)
    if extension == "webp":
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    if extension == "heic":
        return head[4:8] == b"ftyp" and head[8:12] in _HEIC_BRANDS
    return extension in SIGNATURES and head.startswith(SIGNATURES[extension])


def _megabytes(size: int) -> str:
    """"10 MB", "20,4 MB" in German: whole megabytes stay whole, and a size just over a limit never rounds down to
    the limit it breaks."""
    megabytes = size / (1024 * 1024)
    whole = megabytes == int(megabytes) or size in (MAX_FILE_BYTES, MAX_TOTAL_BYTES)
    return f"{formats.number_format(int(megabytes) if whole else math.ceil(megabytes * 10) / 10, 0 if whole else 1)} MB"


def safe_name(name: str) -> str:
    """The file's own name without any folder part, control characters or a name that hides its type."""
    base = os.path.basename(str(name or "").replace("\\", "/")).strip().lstrip(".")
    return clean_text(base, 200).strip() or "file"


def checked(files: list[dict], *, channel_label: str, sends_files: bool) -> list[dict]:
    """The files as they will be stored (safe name, content type from the extension), or an ActionError
    naming the file and what to do. ``files``: ``{"filename", "content"}`` each."""
    if not files:
        return []
    if not sends_files:
        raise ActionError(_("%(channel)s cannot send file attachments. Remove the files and send the reply "
                            "without them, or send the files by email.") % {"channel": channel_label}, "files")
    if len(files) > MAX_FILES:
        raise ActionError(_("At most %(max)s files per reply; you attached %(n)s.") % {"max": MAX_FILES, "n": len(files)},
                          "files")
    result, total = [], 0
    for item in files:
        name = safe_name(item.get("filename", ""))
        content = item.get("content") or b""
        extension = name.rpartition(".")[2].lower() if "." in name else ""
        if extension not in TYPES:
            allowed = ", ".join(sorted(TYPES))
            raise ActionError(_("%(name)s: files of this type cannot be attached (allowed: %(allowed)s).")
                              % {"name": name, "allowed": allowed}, "files")
        if not content:
            raise ActionError(_("%(name)s is empty.") % {"name": name}, "files")
        if len(content) > MAX_FILE_BYTES:
            raise ActionError(_("%(name)s is %(size)s; a file may be at most %(max)s.")
                              % {"name": name, "size": _megabytes(len(content)), "max": _megabytes(MAX_FILE_BYTES)},
                              "files")
        total += len(content)
        result.append({"filename": name, "content_type": TYPES[extension] or mimetypes.guess_type(name)[0],
                       "content": content})
    if total > MAX_TOTAL_BYTES:
        raise ActionError(_("The files add up to %(size)s; a reply may carry at most %(max)s.")
                          % {"size": _megabytes(total), "max": _megabytes(MAX_TOTAL_BYTES)}, "files")
    return result


def checked_from_customer(files: list[dict]) -> list[dict]:
    """Files a customer sends with the public contact form, as they will be stored, or an ActionError in the
    customer's words: the reply's types and limits, at most MAX_FORM_FILES, and each file's content must match
    its type. The form keeps the text; the browser cannot keep chosen files, so every message says to choose
    them again."""
    if not files:
        return []
    again = _("Your text is kept; please choose the files again.")
    if len(files) > MAX_FORM_FILES:
        raise ActionError(_("You can attach at most %(max)s files; you chose %(n)s.")
                          % {"max": MAX_FORM_FILES, "n": len(files)} + " " + again, "files")
    result, total = [], 0
    for item in files:
        name = safe_name(item.get("filename", ""))
        content = item.get("content") or b""
        extension = name.rpartition(".")[2].lower() if "." in name else ""
        if extension not in TYPES:
            raise ActionError(_("%(name)s cannot be sent: we accept documents (PDF, Word, Excel, PowerPoint, "
                                "OpenDocument), images (JPEG, PNG, GIF, WebP, HEIC), text files and ZIP archives.")
                              % {"name": name} + " " + again, "files")
        if not content:
            raise ActionError(_("%(name)s is empty.") % {"name": name} + " " + again, "files")
        if len(content) > MAX_FILE_BYTES:
            raise ActionError(_("%(name)s is %(size)s; a file may be at most %(max)s.")
                              % {"name": name, "size": _megabytes(len(content)), "max": _megabytes(MAX_FILE_BYTES)}
                              + " " + again, "files")
        if not content_matches(extension, content):
            raise ActionError(_("%(name)s is not a real %(type)s file (its content is of another kind). Save it "
                                "again in that format or send another file.")
                              % {"name": name, "type": extension.upper()} + " " + again, "files")
        total += len(content)
        result.append({"filename": name, "content_type": TYPES[extension], "content": content})
    if total > MAX_TOTAL_BYTES:
        raise ActionError(_("The files add up to %(size)s; together they may be at most %(max)s.")
                          % {"size": _megabytes(total), "max": _megabytes(MAX_TOTAL_BYTES)} + " " + again, "files")
    return result
