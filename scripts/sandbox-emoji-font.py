"""Rebuild the sandbox page's emoji font: Noto Color Emoji (SIL OFL 1.1, Debian's
fonts-noto-color-emoji), cut down to the emoji the bot and the page use, plus a few common ones.

    apt-get download fonts-noto-color-emoji && dpkg -x fonts-noto-color-emoji_*.deb /tmp/noto
    .venv/bin/python scripts/sandbox-emoji-font.py \
        /tmp/noto/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "bot" / "sandbox" / "static" / "fonts" / "sandbox-emoji.woff"
# Common emoji a new bot text may well use (the ones found in the sources are added to these).
EXTRAS = (
    "🔗📱💬✉🏠⚠ℹ👉🙏📅⏰🚫⭐✔📝📌🔍🔎🆗❗❕😊😀😃🙁😢🤔📞🔔👀✨👨👩👧👦🧒🎯📋🛟➡⬇⬆☑🟢🔴🟠🟡"
    "⌚👏🤝📚✍💼🏢🧾🪪📤📥📬📮🗓🕐⚙🛠🚪🔙🔜⏸⏹⏭🆕🆔💾🗂📁🧭🌍"
)


def used_emoji() -> set[str]:
    """Characters of the emoji planes (U+1F000 and up) and the symbol blocks U+2300–U+27BF
    in the bot's Python sources and the page's files."""
    files = [*ROOT.glob("bot/**/*.py"), *ROOT.glob("bot/sandbox/static/*.*")]
    found: set[str] = set()
    for path in files:
        found |= {c for c in path.read_text(encoding="utf-8") if is_emoji_candidate(c)}
    return found


def is_emoji_candidate(char: str) -> bool:
    """Whether ``char`` is one the page's text fonts are unlikely to have in colour."""
    return ord(char) >= 0x1F000 or 0x2300 <= ord(char) <= 0x27BF


def main(source: str) -> None:
    """Write :data:`OUTPUT` from the full Noto Color Emoji at ``source``."""
    cmap = TTFont(source).getBestCmap()
    wanted = sorted({ord(c) for c in used_emoji() | set(EXTRAS)} & set(cmap))
    wanted += [0x200D, 0xFE0F]
    options = subset.Options()
    options.flavor = "woff"
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    font = subset.load_font(source, options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=wanted)
    subsetter.subset(font)
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    subset.save_font(font, str(OUTPUT), options)
    print(f"{OUTPUT.relative_to(ROOT)}: {len(wanted)} characters, {OUTPUT.stat().st_size} bytes")


if __name__ == "__main__":
    main(sys.argv[1])
