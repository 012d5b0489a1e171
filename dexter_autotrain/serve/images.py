"""Which images `serve` decodes: a format allow-list and pixel budgets, checked from the
image's header before any pixel is decoded.

Pillow tries every decoder it has (EPS runs Ghostscript) and decodes whatever size a header
declares; a 1 KB PNG can declare a gigapixel. Here only the formats below are opened, an
image over `MAX_IMAGE_PIXELS` is refused before decoding, and a request's images together
may hold at most `MAX_REQUEST_PIXELS`.
"""

from __future__ import annotations

import io
import warnings

IMAGE_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP")
MAX_IMAGE_PIXELS = 16_000_000
"""One image's width x height (4000 x 4000): the model sees 224 x 224."""
MAX_REQUEST_PIXELS = 64_000_000


class ImageRefused(Exception):
    """An image `serve` does not decode; the message says why."""


def checked_image(data: bytes) -> int:
    """Decode `data` as one of `IMAGE_FORMATS` within the pixel budget.

    Returns:
        The image's pixel count (for the request's budget).

    Raises:
        [`ImageRefused`]: not an image of an allowed format, too large, or broken.

    Example:
        ```python
        >>> checked_image(Path("meme.png").read_bytes())
        50176
        ```
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=IMAGE_FORMATS) as image:
                pixels = image.width * image.height
                if pixels > MAX_IMAGE_PIXELS:
                    raise ImageRefused(
                        f"{image.width}x{image.height} is over {MAX_IMAGE_PIXELS:,} pixels; "
                        "send a smaller image"
                    )
                image.load()
    except UnidentifiedImageError:
        served = ", ".join(IMAGE_FORMATS)
        raise ImageRefused(f"not an image of a served format ({served})") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageRefused(f"refused as a decompression bomb ({error})") from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise ImageRefused(f"not a readable image ({error})") from None
    return pixels
