"""Avatar pictures: an upload is decoded, checked, cropped square, resized and re-encoded here.

Nothing a member uploads is ever served as it came: a file that claims to be a picture can carry a script,
a polyglot or metadata (the place a photo was taken). Pillow decodes the pixels, we draw them into a new
image and encode that as WebP, so only bytes we produced reach a browser. Size and pixel limits come
before decoding, which stops decompression bombs.
"""

from __future__ import annotations

import io

from resonanz.core.errors import ActionError

MAX_BYTES = 2 * 1024 * 1024
MAX_PIXELS = 40_000_000
SIZE = 256
FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}


def normalise(data: bytes) -> bytes:
    """Return a ``SIZE``×``SIZE`` WebP made from ``data``; ActionError saying what to upload instead."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not data:
        raise ActionError("Choose a picture to upload.", "avatar")
    if len(data) > MAX_BYTES:
        raise ActionError("The picture is larger than 2 MB. Please upload a smaller one.", "avatar")
    try:
        with Image.open(io.BytesIO(data), formats=sorted(FORMATS)) as probe:
            kind, (width, height) = probe.format, probe.size
            if kind not in FORMATS:
                raise ActionError("Upload a JPEG, PNG, WebP or GIF picture.", "avatar")
            if width * height > MAX_PIXELS or width < 1 or height < 1:
                raise ActionError("The picture has too many pixels. Please upload a smaller one.", "avatar")
            probe.seek(0)  # the first frame of an animation
            image = ImageOps.exif_transpose(probe)
            image.load()
    except ActionError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ActionError("This file is not a picture we can read. Upload a JPEG, PNG, WebP or GIF.",
                          "avatar") from exc
    image = image.convert("RGBA" if "A" in image.getbands() or image.mode == "P" else "RGB")
    image = ImageOps.fit(image, (SIZE, SIZE), method=Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="WEBP", quality=85, method=4)  # no exif/icc passed on: metadata is dropped
    return out.getvalue()
