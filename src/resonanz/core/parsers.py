"""The API's JSON parser: DRF's, with the depth guard of resonanz.core.jsonsafe."""

from __future__ import annotations

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from resonanz.core import jsonsafe


class SafeJSONParser(JSONParser):
    """Too deep, invalid or non-standard JSON is a 400 with the reason, never a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        raw = stream.read() if stream is not None else b""
        try:
            if encoding.lower().replace("_", "-") not in ("utf-8", "utf8"):
                raw = raw.decode(encoding)
            return jsonsafe.loads(raw)
        except (UnicodeDecodeError, LookupError):
            raise ParseError(f"JSON parse error - the body is not {encoding} text.") from None
        except jsonsafe.UnsafeJSON as exc:
            raise ParseError(f"JSON parse error - {exc.message}") from None
