"""Files agents attach to replies: which types, how large, and the refusal a user reads when one does not fit.

The content type is taken from the file name's extension (what a browser claims is not trusted), and only
types customers can open safely are accepted: documents, spreadsheets, images, text, archives; never
programs, scripts or HTML. The same limits apply in the desk, the API and the browser's early check
(``limits()`` is handed to the page).
"""

from __future__ import annotations

import mimetypes
import os

from django.utils.translation import gettext as _

from resonanz.core.errors import ActionError
from resonanz.core.sanitize import clean_text

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_TOTAL_BYTES = 20 * 1024 * 1024
MAX_FILES = 10
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


def limits() -> dict:
    return {"max_file": MAX_FILE_BYTES, "max_total": MAX_TOTAL_BYTES, "max_files": MAX_FILES,
            "extensions": sorted(TYPES)}


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB"


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
