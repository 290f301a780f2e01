"""Printable activation letters: one A4 page per account, drawn with fpdf2, the QR code of the
bot's link drawn with segno. The QR code and the printed link never carry a secret; the
provisional password is printed in the page's text only.

Fonts: DejaVu Sans, shipped with matplotlib (a dependency for the staff chart), so that every
name prints, accents and all, without a system font.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import segno
from fpdf import FPDF
from fpdf.enums import MethodReturnValue, XPos, YPos

from bot.school import SchoolConfig
from bot.staff.private_files import write_private_bytes
from bot.staff.service import Letter
from bot.texts import staff as staff_texts

FONT = "DejaVu"
MONO = "DejaVuMono"
MARGIN = 20.0
QR_SIZE = 42.0
STEP_INDENT = 8.0

# fontTools logs every font subset at INFO.
logging.getLogger("fontTools").setLevel(logging.WARNING)


def _font_folder() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def qr_png(link: str) -> bytes:
    """The QR code of ``link`` as a PNG (error correction M, quiet zone of 4 modules)."""
    buffer = io.BytesIO()
    segno.make(link, error="m", micro=False).save(buffer, kind="png", scale=10, border=4)
    return buffer.getvalue()


def _new_pdf(school: SchoolConfig) -> FPDF:
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(False)
    fonts = _font_folder()
    pdf.add_font(FONT, "", str(fonts / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(fonts / "DejaVuSans-Bold.ttf"))
    pdf.add_font(MONO, "B", str(fonts / "DejaVuSansMono-Bold.ttf"))
    pdf.set_title(staff_texts.letter_title(school))
    pdf.set_author(school.etablissement)
    pdf.set_creator("ent-activation-bot")
    return pdf


Paragraph = tuple[str, float, float, list[str]]  # style, size, line height, lines

# A number written in groups (a phone number: « 01 23 45 67 89 », « +33 1 23 45 67 89 »).
_GROUPED_NUMBER = re.compile(r"\+?\d+(?: \d+){2,}")
NO_BREAK_SPACE = "\u00a0"


def keep_numbers_whole(text: str) -> str:
    """``text`` with the spaces inside a grouped number made non-breaking: a phone number is
    never cut over two lines (fpdf2 breaks lines at plain spaces only)."""
    return _GROUPED_NUMBER.sub(lambda match: match.group().replace(" ", NO_BREAK_SPACE), text)


def _wrap(pdf: FPDF, text: str, size: float, style: str, height: float, width: float) -> Paragraph:
    """Break ``text`` into lines once (fpdf2's line breaking is the slow part of a page: the
    texts every letter shares are broken once, then drawn line by line with ``cell``), never
    inside a phone number."""
    pdf.set_font(FONT, style, size)
    lines = pdf.multi_cell(
        width,
        height,
        keep_numbers_whole(text),
        align="L",
        dry_run=True,
        output=MethodReturnValue.LINES,
    )
    assert isinstance(lines, list)  # output=LINES
    return style, size, height, [str(line) for line in lines]


def _draw(pdf: FPDF, paragraph: Paragraph, x: float = MARGIN) -> None:
    style, size, height, lines = paragraph
    pdf.set_font(FONT, style, size)
    for line in lines:
        pdf.set_x(x)
        pdf.cell(0, height, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


@dataclass(frozen=True)
class _Layout:
    """What every letter shares, laid out once."""

    header: Paragraph
    title: Paragraph
    intro: Paragraph
    qr_caption: Paragraph
    steps_title: Paragraph
    steps: list[Paragraph]
    warning: Paragraph
    help_title: Paragraph
    contacts: list[Paragraph]
    footer: Paragraph


def _layout(
    pdf: FPDF, school: SchoolConfig, etablissement: str, link: str, printed_on: datetime
) -> _Layout:
    """What the letters of one establishment share (its name heads the letter)."""
    width = pdf.w - 2 * MARGIN
    side = width - QR_SIZE - 6
    return _Layout(
        header=_wrap(pdf, etablissement, 11, "B", 6, width),
        title=_wrap(pdf, staff_texts.letter_title(school), 18, "B", 9, width),
        intro=_wrap(pdf, staff_texts.letter_intro(school, etablissement), 11, "", 6, width),
        qr_caption=_wrap(pdf, staff_texts.LETTER_QR_CAPTION, 11, "B", 6, side),
        steps_title=_wrap(pdf, staff_texts.LETTER_STEPS_TITLE, 13, "B", 8, width),
        steps=[
            _wrap(pdf, step, 11, "", 6, width - STEP_INDENT)
            for step in staff_texts.letter_steps(school, link)
        ],
        warning=_wrap(pdf, staff_texts.LETTER_WARNING, 10, "B", 5.5, width),
        help_title=_wrap(pdf, staff_texts.LETTER_HELP_TITLE, 12, "B", 7, width),
        contacts=[
            _wrap(pdf, line, 10, "", 5.5, width) for line in staff_texts.letter_contacts(school)
        ],
        footer=_wrap(pdf, staff_texts.letter_footer(printed_on), 8, "", 4, width),
    )


def _page(pdf: FPDF, letter: Letter, layout: _Layout, link: str, qr: bytes) -> None:
    account = letter.account
    pdf.set_text_color(90, 90, 90)
    _draw(pdf, layout.header)
    pdf.set_text_color(0, 0, 0)
    pdf.ln(4)
    _draw(pdf, layout.title)
    pdf.ln(4)
    pdf.set_font(FONT, "", 12)
    greeting = staff_texts.letter_greeting(account.prenom, account.nom)
    pdf.cell(0, 6, greeting, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1)
    _draw(pdf, layout.intro)
    pdf.ln(4)

    # The two codes, in a box, in a monospaced font (easy to copy).
    top = pdf.get_y()
    width = pdf.w - 2 * MARGIN
    pdf.set_draw_color(11, 92, 173)
    pdf.set_line_width(0.6)
    pdf.rect(MARGIN, top, width, 34)
    for offset, label, value in (
        (3.0, staff_texts.LETTER_IDENTIFIANT, account.identifiant),
        (18.0, staff_texts.LETTER_PROVISIONAL, letter.provisional_password),
    ):
        pdf.set_xy(MARGIN + 5, top + offset)
        pdf.set_font(FONT, "", 10)
        pdf.cell(0, 5, label, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_x(MARGIN + 5)
        pdf.set_font(MONO, "B", 16)
        pdf.cell(0, 8, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(top + 34 + 6)

    # QR code and link, then the steps.
    top = pdf.get_y()
    pdf.image(io.BytesIO(qr), x=MARGIN, y=top, w=QR_SIZE, h=QR_SIZE)
    pdf.set_y(top + 8)
    side = MARGIN + QR_SIZE + 6
    _draw(pdf, layout.qr_caption, side)
    pdf.set_x(side)
    pdf.set_font(FONT, "", 11)
    pdf.set_text_color(11, 92, 173)
    pdf.cell(0, 6, link, link=link, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)
    pdf.set_y(top + QR_SIZE + 4)
    _draw(pdf, layout.steps_title)
    for number, step in enumerate(layout.steps, start=1):
        pdf.set_font(FONT, "B", 11)
        pdf.cell(STEP_INDENT, 6, f"{number}.")
        _draw(pdf, step, MARGIN + STEP_INDENT)
        pdf.ln(1)
    pdf.ln(3)
    _draw(pdf, layout.warning)
    pdf.ln(4)
    _draw(pdf, layout.help_title)
    for contact in layout.contacts:
        _draw(pdf, contact)
    pdf.set_y(pdf.h - MARGIN)
    pdf.set_text_color(120, 120, 120)
    _draw(pdf, layout.footer)
    pdf.set_text_color(0, 0, 0)


def render_letters(
    letters: Sequence[Letter],
    school: SchoolConfig,
    link: str,
    path: Path,
    printed_on: datetime,
    progress: Callable[[int], None] | None = None,
    qr_link: Callable[[Letter], str] | None = None,
) -> None:
    """Write the letters to the PDF file ``path``, one page each (``progress(1)`` per page);
    ``qr_link`` gives each letter's QR code its own link (by default, ``link``).
    Each letter is headed by its account's establishment (the school's name when the account
    has none)."""
    pdf = _new_pdf(school)
    shared_qr = qr_png(link)
    layouts: dict[str, _Layout] = {}
    for letter in letters:
        pdf.add_page()
        etablissement = letter.account.etablissement or school.etablissement
        layout = layouts.get(etablissement)
        if layout is None:  # laid out once per establishment; needs a page
            layout = layouts[etablissement] = _layout(pdf, school, etablissement, link, printed_on)
        # Each letter's own QR code (its token) opens the bot at its provisional password;
        # the printed link, to type by hand, is the same for all.
        qr = qr_png(qr_link(letter)) if qr_link else shared_qr
        _page(pdf, letter, layout, link, qr)
        if progress:
            progress(1)
    # Provisional passwords: readable by the owner only (0600), whatever the umask.
    write_private_bytes(path, bytes(pdf.output()))
