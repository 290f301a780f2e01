"""The sandbox page in headless Chromium (Debian's ``/usr/bin/chromium`` driven by Playwright):
a complete activation by e-mail, by clicks and typing, reading the code in the mail panel.

``SANDBOX_SCREENSHOT=docs/sandbox.png pytest tests/sandbox/test_browser.py`` also writes the
README's screenshot (the same picture the test saves under its temporary folder).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.sandbox.run import Sandbox

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CODE = re.compile(r"\b(\d{8})\b")
NEW_PASSWORD = "Velo-Rouge-Soleil-42"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="/usr/bin/chromium is missing (Debian package 'chromium'; .ci/run installs it)",
)

try:
    from playwright.async_api import Browser, Locator, Page, async_playwright, expect
except ImportError:  # pragma: no cover - playwright is in the [test] extra
    pytestmark = pytest.mark.skip(reason="playwright is not installed (pip install -e '.[test]')")


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[Browser]:
    """Headless Chromium from Debian (no browser download)."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        await launched.close()


def chat(page: Page) -> Locator:
    """The chat log."""
    return page.locator("#chat-log")


async def last_bot_says(page: Page, fragment: str) -> None:
    """Wait until the bot's newest message contains ``fragment``."""
    await expect(chat(page).locator("li.msg.bot").last).to_contain_text(fragment, timeout=10_000)


async def press(page: Page, label: str) -> None:
    """Press the newest inline button whose label contains ``label``."""
    await chat(page).locator(".keyboard button", has_text=label).last.click()


async def type_and_send(page: Page, text: str) -> None:
    """Type in the message box and press Enter."""
    box = page.get_by_label("Votre message")
    await box.fill(text)
    await box.press("Enter")
    await expect(box).to_have_value("")


async def walk_to_code_mail(page: Page, url: str, person: str, account: str, password: str) -> str:
    """From the page's opening to the verification e-mail, opened in the mail panel; its code."""
    await page.goto(url)
    await page.get_by_role("button", name=person).click()
    await expect(page.get_by_role("button", name=person)).to_have_attribute("aria-pressed", "true")
    await page.get_by_role("button", name="Menu").click()
    await page.locator("#commands-menu button[data-command='start']").click()
    await last_bot_says(page, "Qui êtes-vous")
    await press(page, "Apprenti·e")
    await last_bot_says(page, "identifiant")
    # The demo accounts panel writes the values into the message box.
    await page.get_by_role("button", name=f"Écrire l'identifiant {account}").click()
    await page.get_by_label("Votre message").press("Enter")
    await last_bot_says(page, "provisoire")
    await page.get_by_role("button", name=f"Écrire le mot de passe provisoire {password}").click()
    await page.get_by_label("Votre message").press("Enter")
    await expect(chat(page)).to_contain_text("Conditions Générales", timeout=10_000)
    await expect(chat(page).locator("li.msg.user", has_text=password)).to_have_count(0)
    await press(page, "J'accepte")
    await last_bot_says(page, "Étape 3")
    await press(page, "Par e-mail")
    await last_bot_says(page, "adresse")
    await type_and_send(page, f"{account}@example.org")
    await last_bot_says(page, f"{account}@example.org")
    await press(page, "Oui, envoyer")
    await last_bot_says(page, "indésirables")
    mail = page.locator("#mail-list button").first
    await expect(mail).to_contain_text(f"{account}@example.org", timeout=10_000)
    await mail.click()
    text = page.locator("#mail-text")
    await expect(text).to_contain_text("code de confirmation")
    found = CODE.search(await text.inner_text())
    assert found, "no code in the e-mail shown by the page"
    return found.group(1)


async def finish_with_password(page: Page) -> None:
    """Type the new password twice; the account is activated."""
    await last_bot_says(page, "mot de passe")
    await type_and_send(page, NEW_PASSWORD)
    await last_bot_says(page, "deuxième fois")
    await type_and_send(page, NEW_PASSWORD)
    await last_bot_says(page, "activé")
    await expect(chat(page).locator("li.msg.user", has_text=NEW_PASSWORD)).to_have_count(0)
    await expect(chat(page).locator("a.url-button")).to_have_attribute("target", "_blank")


async def test_activation_by_email_code_in_the_browser(
    sandbox: Sandbox, browser: Browser, tmp_path: Path
) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 1000}, locale="fr-FR")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    code = await walk_to_code_mail(
        page, sandbox.url, "Léa (apprenti·e)", "lea.demo", "Demo-Lea-2026"
    )
    await type_and_send(page, code)
    await expect(chat(page)).to_contain_text("Adresse e-mail confirmée", timeout=10_000)
    await finish_with_password(page)
    await expect(chat(page).locator("li.msg.user", has_text=code)).to_have_count(0)
    # Telegram's formatting and edits in place are shown.
    await expect(chat(page).locator("li.msg.bot strong", has_text="Étape 4").first).to_be_visible()
    await expect(chat(page).locator(".meta", has_text="modifié").first).to_be_attached()

    # Both views of the e-mail, then the picture.
    await page.get_by_role("button", name="HTML", exact=True).click()
    frame = page.frame_locator("#mail-html")
    await expect(frame.get_by_role("link", name="Confirmer mon adresse")).to_be_visible()
    await page.get_by_role("button", name="Texte", exact=True).click()
    shot = tmp_path / "sandbox.png"
    await page.evaluate("document.getElementById('toast').hidden = true; window.scrollTo(0, 0)")
    await page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    if target := os.environ.get("SANDBOX_SCREENSHOT"):
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, target)
    assert errors == []


async def test_deep_link_in_the_mail_continues_the_chat(
    sandbox: Sandbox, browser: Browser, tmp_path: Path
) -> None:
    page = await browser.new_page(viewport={"width": 360, "height": 740}, locale="fr-FR")
    await walk_to_code_mail(
        page, sandbox.url, "Paul (maître d'apprentissage)", "paul.demo", "Demo-Paul-2026"
    )
    # The button of the HTML view (a sandboxed iframe): the page sends /start <payload>.
    await page.get_by_role("button", name="HTML", exact=True).click()
    await page.frame_locator("#mail-html").get_by_role("link", name="Confirmer mon adresse").click()
    await expect(chat(page).locator("li.msg.user").last).to_contain_text("/start ")
    await expect(chat(page)).to_contain_text("Adresse e-mail confirmée", timeout=10_000)
    await finish_with_password(page)
    await page.screenshot(path=str(tmp_path / "sandbox-phone.png"), full_page=True)
    # Nothing overflows a phone-width screen.
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360

    # Reset: chats and mails are gone, the bot answers again.
    page.once("dialog", lambda dialog: dialog.accept())
    await page.get_by_role("button", name="Réinitialiser le bac à sable").click()
    await expect(page.locator("#toast")).to_contain_text("réinitialisé", timeout=10_000)
    await expect(chat(page).locator("li")).to_have_count(0)
    await expect(page.locator("#mail-list li")).to_have_count(0)
    await type_and_send(page, "/aide")
    await expect(chat(page).locator("li.msg.bot")).to_have_count(1, timeout=10_000)
