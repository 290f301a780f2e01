"""Printable activation letters: one A4 page per account, drawn with fpdf2, the QR code of the
bot's link drawn with segno. The QR code and the printed link never carry a secret; the
provisional password is printed in the page's text only.

Fonts: DejaVu Sans, shipped with matplotlib (a dependency for the staff chart), so that every
name prints, accents and all, without a system font.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

import segno
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from bot import texts
from bot.school import SchoolConfig
from bot.staff import Letter

FONT = "DejaVu"
MONO = "DejaVuMono"
MARGIN = 20.0
QR_SIZE = 42.0

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
    pdf.set_title(texts.letter_title(school))
    pdf.set_author(school.etablissement)
    pdf.set_creator("ent-activation-bot")
    return pdf


def _line(pdf: FPDF, text: str, size: float, style: str = "", height: float = 6.0) -> None:
    pdf.set_font(FONT, style, size)
    pdf.multi_cell(0, height, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _page(
    pdf: FPDF, letter: Letter, school: SchoolConfig, link: str, qr: bytes, printed_on: datetime
) -> None:
    account = letter.account
    pdf.add_page()
    pdf.set_text_color(90, 90, 90)
    _line(pdf, school.etablissement, 11, "B")
    pdf.set_text_color(0, 0, 0)
    pdf.ln(4)
    _line(pdf, texts.letter_title(school), 18, "B", 9)
    pdf.ln(4)
    _line(pdf, texts.letter_greeting(account.prenom, account.nom), 12)
    pdf.ln(1)
    _line(pdf, texts.letter_intro(school), 11)
    pdf.ln(4)

    # The two codes, in a box, in a monospaced font (easy to copy).
    top = pdf.get_y()
    width = pdf.w - 2 * MARGIN
    pdf.set_draw_color(11, 92, 173)
    pdf.set_line_width(0.6)
    pdf.rect(MARGIN, top, width, 34)
    for offset, label, value in (
        (3.0, texts.LETTER_IDENTIFIANT, account.identifiant),
        (18.0, texts.LETTER_PROVISIONAL, letter.provisional_password),
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
    pdf.set_xy(MARGIN + QR_SIZE + 6, top + 8)
    pdf.set_font(FONT, "B", 11)
    pdf.multi_cell(0, 6, texts.LETTER_QR_CAPTION, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 11)
    pdf.set_text_color(11, 92, 173)
    pdf.multi_cell(0, 6, link, link=link, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)
    pdf.set_y(top + QR_SIZE + 4)
    _line(pdf, texts.LETTER_STEPS_TITLE, 13, "B", 8)
    for number, step in enumerate(texts.letter_steps(school, link), start=1):
        pdf.set_font(FONT, "B", 11)
        pdf.cell(8, 6, f"{number}.")
        pdf.set_font(FONT, "", 11)
        pdf.multi_cell(0, 6, step, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1)
    pdf.ln(3)
    _line(pdf, texts.LETTER_WARNING, 10, "B", 5.5)
    pdf.ln(4)
    _line(pdf, texts.LETTER_HELP_TITLE, 12, "B", 7)
    for contact in texts.letter_contacts(school):
        _line(pdf, contact, 10, "", 5.5)
    pdf.set_y(pdf.h - MARGIN)
    pdf.set_text_color(120, 120, 120)
    _line(pdf, texts.letter_footer(printed_on), 8, "", 4)
    pdf.set_text_color(0, 0, 0)


def render_letters(
    letters: Sequence[Letter],
    school: SchoolConfig,
    link: str,
    path: Path,
    printed_on: datetime,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Write the letters to the PDF file ``path``, one page each (``progress(1)`` per page)."""
    pdf = _new_pdf(school)
    qr = qr_png(link)
    for letter in letters:
        _page(pdf, letter, school, link, qr, printed_on)
        if progress:
            progress(1)
    pdf.output(str(path))
