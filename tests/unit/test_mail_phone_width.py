"""Every e-mail's HTML part on a phone, in headless Chromium (Debian's ``/usr/bin/chromium``
driven by Playwright): in a 334 px wide frame (the sandbox's mail panel on a phone) nothing is
wider than the frame and the fallback link wraps instead of being cut (issue 22.15)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.outbox.templates import EMAIL_CHANGE, EMAIL_CHANGED, PASSWORD_CHANGED
from bot.school import SchoolConfig
from bot.texts import broadcast as broadcast_texts
from bot.texts import mail as mail_templates

CHROMIUM = Path("/usr/bin/chromium")
FRAME = {"width": 334, "height": 640}
# A real deep link is this long, in one word: what a narrow screen cannot fit on a line.
LINK = (
    "https://t.me/ent_lycee_exemple_activation_bot?start=Zq3Xv9TbP4kWm7Hc2LsN8RdF6YjG1uEoA5iK0pQ_x"
)
UNSUBSCRIBE = "https://ent-bot.lycee-exemple.fr/desinscription/123456/" + "f" * 32

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing")

try:
    from playwright.async_api import Browser, async_playwright
except ImportError:  # pragma: no cover - playwright is in the [test] extra
    pytestmark = pytest.mark.skip(reason="playwright is not installed (pip install -e '.[test]')")


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        yield launched
        await launched.close()


def every_html(school: SchoolConfig) -> dict[str, str]:
    """The HTML part of every e-mail the bot sends, with long but real values."""
    mails = {
        name: mail_templates.render(
            name, school=school, prenom="Marie-Éléonore", code="12345678", link=LINK, hours=48
        ).html
        for name in sorted(mail_templates.CODE_MAILS)
    }
    for name in (PASSWORD_CHANGED, EMAIL_CHANGED):
        params = {"masked_new": "m***********************e@etablissement-exemple.fr"}
        mails[name] = mail_templates.render(
            name,
            school=school,
            prenom="Marie-Éléonore",
            **(params if name != PASSWORD_CHANGED else {}),
        ).html
    mails["mail_answer"] = mail_templates.render(
        "mail_answer",
        school=school,
        prenom="",
        subject="Re: " + "très long sujet " * 10,
        quick_titre=school.quick_answers[0].titre if school.quick_answers else "",
        quick_texte=school.quick_answers[0].texte if school.quick_answers else "",
        telegram_link="https://t.me/un_nom_de_bot_vraiment_tres_long_pour_un_telephone_bot",
        hours_lines=["lundi : 8 h - 12 h, 13 h 30 - 17 h"] * 5,
        back_at="lundi 4 janvier 8 h 00",
    ).html
    mails["reminder"] = broadcast_texts.email_html(
        "Bonjour, activez votre compte : " + LINK, UNSUBSCRIBE
    )
    assert EMAIL_CHANGE in mails
    return mails


async def test_no_e_mail_is_wider_than_a_phone_frame(
    browser: Browser, school: SchoolConfig
) -> None:
    page = await browser.new_page(viewport=FRAME)
    try:
        for name, html in every_html(school).items():
            await page.set_content(html)
            widths = await page.evaluate(
                """() => {
                    const root = document.scrollingElement;
                    const wide = [...document.body.querySelectorAll('*')]
                        .filter((e) => e.getBoundingClientRect().right > root.clientWidth + 0.5)
                        .map((e) => e.tagName + ': ' + e.textContent.slice(0, 40));
                    return {scroll: root.scrollWidth, client: root.clientWidth, wide};
                }"""
            )
            assert widths["scroll"] <= widths["client"], (name, widths)
            assert widths["wide"] == [], (name, widths)
            if LINK in html:  # the fallback link is there whole, over several lines
                shown = await page.evaluate("() => document.body.innerText")
                assert LINK in shown.replace("\n", ""), name
    finally:
        await page.close()
