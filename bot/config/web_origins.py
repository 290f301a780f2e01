"""Origins (``scheme://host[:port]``) as ``WEB_ALLOWED_ORIGINS`` and ``WEB_PUBLIC_URL`` give
them: no import beyond the standard library, so the settings can check them."""

from __future__ import annotations

from urllib.parse import urlsplit


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of ``url``, lower case (None if it has none)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".casefold()


def parse_origins(text: str) -> tuple[str, ...]:
    """``WEB_ALLOWED_ORIGINS``: origins separated by commas or spaces."""
    found = []
    for part in text.replace(",", " ").split():
        origin = origin_of(part)
        if origin is None:
            raise ValueError(f"WEB_ALLOWED_ORIGINS : « {part} » n'est pas une origine (https://…)")
        found.append(origin)
    return tuple(found)
