"""The sandbox page in headless Chromium (Debian's ``/usr/bin/chromium`` driven by Playwright):
a complete activation by e-mail, by clicks and typing, reading the code in the mail panel, and
the page's layout on a phone (360 × 740) and a laptop (1280 × 800).

``SANDBOX_SCREENSHOT=docs/sandbox.png SANDBOX_PHONE_SCREENSHOT=docs/sandbox-phone.png pytest
tests/sandbox/test_browser.py`` also writes the README's screenshots (the same pictures the tests
save under their temporary folders).
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
PHONE = {"width": 360, "height": 740}
LAPTOP = {"width": 1280, "height": 800}
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

try:  # axe-core, shipped inside the package (nothing fetched)
    from axe_playwright_python.async_playwright import Axe
except ImportError:  # pragma: no cover - in the [test] extra
    Axe = None

# axe-core's rules for WCAG 2.1 A and AA.
WCAG_21_AA = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}


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


async def show(page: Page, tab: str) -> None:
    """Touch the tab ``tab`` (Discussion, Boîte mail, Comptes) if it is shown (on a wide screen
    the chat needs no tab)."""
    button = page.get_by_role("tab", name=tab)
    if await button.is_visible():
        await button.click()


async def choose_person(page: Page, label: str) -> None:
    """Pick the person chatting with the bot."""
    await show(page, "Discussion")
    await page.get_by_label("Vous êtes").select_option(label=label)


async def last_bot_says(page: Page, fragment: str) -> None:
    """Wait until the bot's newest message contains ``fragment``."""
    await expect(chat(page).locator("li.msg.bot").last).to_contain_text(fragment, timeout=10_000)


async def press(page: Page, label: str) -> None:
    """Press the newest inline button whose label contains ``label``."""
    await show(page, "Discussion")
    await chat(page).locator(".keyboard button", has_text=label).last.click()


async def type_and_send(page: Page, text: str) -> None:
    """Type in the message box and press Enter."""
    await show(page, "Discussion")
    box = page.get_by_label("Votre message")
    await box.fill(text)
    await box.press("Enter")
    await expect(box).to_have_value("")


async def start(page: Page, url: str, person: str) -> None:
    """Open the page as ``person`` and send /start from the Menu."""
    await page.goto(url)
    await expect(page.locator("#person-select option")).not_to_have_count(0)
    await choose_person(page, person)
    await page.get_by_role("button", name="Menu").click()
    await page.locator("#commands-menu button[data-command='start']").click()
    await last_bot_says(page, "Qui êtes-vous")


async def walk_to_cgu(page: Page, url: str, person: str, account: str, password: str) -> None:
    """From the page's opening to the CGU, the values written by the demo accounts panel."""
    await start(page, url, person)
    await press(page, "Apprenti·e")
    await last_bot_says(page, "identifiant")
    # The demo accounts panel writes the values into the message box (and shows the chat).
    await show(page, "Comptes")
    await page.get_by_role("button", name=f"Écrire l'identifiant {account}").click()
    await page.get_by_label("Votre message").press("Enter")
    await last_bot_says(page, "provisoire")
    await show(page, "Comptes")
    await page.get_by_role("button", name=f"Écrire le mot de passe provisoire {password}").click()
    await page.get_by_label("Votre message").press("Enter")
    await expect(chat(page)).to_contain_text("Conditions Générales", timeout=10_000)
    await expect(chat(page).locator("li.msg.user", has_text=password)).to_have_count(0)


async def walk_to_code_mail(page: Page, url: str, person: str, account: str, password: str) -> str:
    """From the page's opening to the verification e-mail, opened in the mail panel; its code."""
    await walk_to_cgu(page, url, person, account, password)
    await press(page, "J'accepte")
    await last_bot_says(page, "Étape 3")
    await press(page, "Par e-mail")
    await last_bot_says(page, "adresse")
    await type_and_send(page, f"{account}@example.org")  # sent at once
    await last_bot_says(page, "indésirables")
    await notice_clear_of_the_chat(page, "Nouvel e-mail")
    await show(page, "Boîte mail")
    mail = page.locator("#mail-list button", has_text=f"{account}@example.org").first
    await expect(mail).to_be_visible(timeout=10_000)
    await mail.click()
    text = page.locator("#mail-text")
    await expect(text).to_contain_text("code de confirmation")
    found = CODE.search(await text.inner_text())
    assert found, "no code in the e-mail shown by the page"
    return found.group(1)


async def notice_clear_of_the_chat(page: Page, fragment: str, *, whole: bool = True) -> None:
    """The notice saying ``fragment`` shows inside the window, over neither the page's title,
    the chat, the tabs nor the message box; ``whole``: all its text is shown (none cut)."""
    await page.wait_for_function(
        """([fragment, whole]) => {
          const box = document.getElementById("notice");
          if (box.hidden || !box.textContent.includes(fragment)) return false;
          const r = box.getBoundingClientRect();
          const inside = r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight
            && r.right <= innerWidth && r.height > 0;
          const apart = (s) => {
            const o = document.querySelector(s).getBoundingClientRect();
            return o.height === 0 || r.bottom <= o.top || o.bottom <= r.top
              || r.right <= o.left || o.right <= r.left;
          };
          const shown = !whole || box.scrollHeight <= box.clientHeight + 1;
          return inside && shown && apart("h1") && apart(".tabs") && apart("#chat-log")
            && apart("#composer");
        }""",
        arg=[fragment, whole],
        timeout=10_000,
    )


async def finish_with_password(page: Page) -> None:
    """Type the new password twice; the account is activated."""
    await last_bot_says(page, "mot de passe")
    await type_and_send(page, NEW_PASSWORD)
    await last_bot_says(page, "deuxième fois")
    await type_and_send(page, NEW_PASSWORD)
    await last_bot_says(page, "activé")
    await expect(chat(page).locator("li.msg.user", has_text=NEW_PASSWORD)).to_have_count(0)
    await expect(chat(page).locator("a.url-button")).to_have_attribute("target", "_blank")


def refused_by_the_policy(page: Page) -> list[str]:
    """The messages of Chromium refusing something under the page's (or an e-mail's) Content
    Security Policy, from now on (an inline style or script, a request elsewhere)."""
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return refused


async def in_view(page: Page, selector: str) -> bool:
    """Whether the element is entirely inside the window (to the pixel)."""
    return bool(
        await page.eval_on_selector(
            selector,
            """(e) => { const r = e.getBoundingClientRect();
              return r.height > 0 && r.top >= -1 && r.left >= -1 && r.bottom <= innerHeight + 1
                && r.right <= innerWidth + 1; }""",
        )
    )


async def test_activation_by_email_code_in_the_browser(
    sandbox: Sandbox, browser: Browser, tmp_path: Path
) -> None:
    page = await browser.new_page(viewport=LAPTOP, locale="fr-FR")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    refused = refused_by_the_policy(page)
    code = await walk_to_code_mail(
        page, sandbox.url, "Léa (apprenti·e)", "lea.demo", "Demo-Lea-2026"
    )
    # Side by side: the chat stays on screen while the mail is read.
    assert await in_view(page, "#message-input")
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
    assert refused == []
    shot = tmp_path / "sandbox.png"
    await page.evaluate("document.getElementById('notice').hidden = true")
    await page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    if target := os.environ.get("SANDBOX_SCREENSHOT"):
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, target)
    assert errors == []


async def test_deep_link_in_the_mail_continues_the_recipients_chat(
    sandbox: Sandbox, browser: Browser, tmp_path: Path
) -> None:
    page = await browser.new_page(viewport=PHONE, locale="fr-FR")
    await walk_to_code_mail(
        page, sandbox.url, "Paul (maître d'apprentissage)", "paul.demo", "Demo-Paul-2026"
    )
    paul = await page.locator("#person-select").input_value()
    # Someone else is selected when Paul's e-mail link is opened.
    await choose_person(page, "Léa (apprenti·e)")
    await show(page, "Boîte mail")
    # The button of the HTML view (a sandboxed iframe): the page sends /start <payload>.
    await page.get_by_role("button", name="HTML", exact=True).click()
    await page.frame_locator("#mail-html").get_by_role("link", name="Confirmer mon adresse").click()
    await notice_clear_of_the_chat(page, "discussion de Paul")
    # The page shows Paul's chat, which goes on; Léa's got nothing.
    await expect(page.locator("#person-select")).to_have_value(paul)
    await expect(page.get_by_role("tab", name="Discussion")).to_have_attribute(
        "aria-selected", "true"
    )
    await expect(chat(page)).to_be_visible()
    assert await in_view(page, "#message-input")
    await expect(chat(page)).to_contain_text("Adresse e-mail confirmée", timeout=10_000)
    # The /start <token> the page sent reads as what it is.
    opened = chat(page).locator("li.msg.user", has_text="Lien de l'e-mail ouvert")
    await expect(opened).to_have_count(1)
    await expect(opened).to_contain_text("🔗 Lien de l'e-mail ouvert")
    raw = chat(page).locator("li.msg.user", has_text=re.compile(r"/start \S"))
    await expect(raw).to_have_count(0)
    await finish_with_password(page)
    state = sandbox.web.state()
    lea = next(u for u in state["users"] if u["first_name"] == "Léa")
    assert lea["messages"] == []
    await page.screenshot(path=str(tmp_path / "sandbox-phone.png"), full_page=True)
    # Nothing overflows a phone-width screen.
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]

    # Reset: the question and then the answer show on screen; chats and mails are gone.
    await show(page, "Comptes")
    await page.get_by_role("button", name="Réinitialiser le bac à sable").click()
    await expect(page.locator("#reset-confirm")).to_be_visible()
    assert await in_view(page, "#reset-confirm")
    await expect(page.get_by_role("button", name="Oui, tout effacer")).to_be_focused()
    await page.get_by_role("button", name="Oui, tout effacer").click()
    await notice_clear_of_the_chat(page, "réinitialisé")
    await expect(chat(page).locator("li")).to_have_count(0)
    await expect(page.locator("#mail-list li")).to_have_count(0)
    await type_and_send(page, "/aide")
    await expect(chat(page).locator("li.msg.bot")).to_have_count(1, timeout=10_000)


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["phone", "laptop"])
async def test_the_chat_comes_first(
    sandbox: Sandbox, browser: Browser, tmp_path: Path, viewport: dict[str, int]
) -> None:
    """The message box and the Menu are on the first screen; the mail and the accounts are a
    tap away (beside the chat on a laptop); every control is at least 44 px high."""
    page = await browser.new_page(viewport=viewport, locale="fr-FR")
    await page.goto(sandbox.url)
    await expect(page.locator("#person-select option")).not_to_have_count(0)
    for selector in ("#message-input", "#menu-button", "#send-button", "#person-select"):
        assert await in_view(page, selector), f"{selector} is not on the first screen"
    chat_top = await page.eval_on_selector(".chat-frame", "e => e.getBoundingClientRect().top")
    assert chat_top < 200
    # A notice, even a long one, shows beside the title: the chat does not move.
    await page.evaluate("notice('Nouvel e-mail : ' + 'un objet très long '.repeat(8))")
    await notice_clear_of_the_chat(page, "objet très long", whole=False)
    moved = await page.eval_on_selector(".chat-frame", "e => e.getBoundingClientRect().top")
    assert moved == chat_top
    wide = viewport is LAPTOP
    await page.get_by_role("tab", name="Boîte mail").click()
    await expect(page.locator("#mail-title")).to_be_visible()
    if wide:
        await expect(chat(page)).to_be_visible()
    else:
        await expect(chat(page)).to_be_hidden()
    await page.get_by_role("tab", name="Comptes").click()
    await expect(page.locator("#accounts-title")).to_be_visible()
    await expect(page.locator("#mail-title")).to_be_hidden()
    small = await page.evaluate(
        """() => [...document.querySelectorAll("button, select, input, textarea, [role=tab]")]
          .filter((e) => e.offsetParent !== null)
          .filter((e) => e.getBoundingClientRect().height < 44)
          .map((e) => e.id || e.textContent.trim())"""
    )
    assert small == []
    assert await page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    if not wide:
        # The tabs follow the arrow keys; the skip link leads back to the message box.
        await page.get_by_role("tab", name="Comptes").focus()
        await page.keyboard.press("ArrowLeft")
        await expect(page.get_by_role("tab", name="Boîte mail")).to_be_focused()
        await expect(page.locator("#mail-title")).to_be_visible()
        await page.locator(".skip-link").focus()
        await page.keyboard.press("Enter")
        await expect(page.get_by_label("Votre message")).to_be_focused()
        assert await in_view(page, "#message-input")
        await show(page, "Discussion")
        await page.evaluate("document.getElementById('notice').hidden = true")
        shot = tmp_path / "sandbox-phone.png"
        await page.screenshot(path=str(shot))
        if target := os.environ.get("SANDBOX_PHONE_SCREENSHOT"):
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(shot, target)


async def test_demo_values_never_break_mid_word(sandbox: Sandbox, browser: Browser) -> None:
    page = await browser.new_page(viewport=PHONE, locale="fr-FR")
    await page.goto(sandbox.url)
    await page.get_by_role("tab", name="Comptes").click()
    values = page.locator(".demo-value")
    await expect(values).to_have_count(2 * len(sandbox.web.demo_accounts))
    lines = await values.evaluate_all(
        """(nodes) => nodes.map((node) => {
          const range = document.createRange();
          range.selectNodeContents(node);
          const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
          return [node.textContent, tops.size, getComputedStyle(node).whiteSpace,
                  getComputedStyle(node).overflowWrap];
        })"""
    )
    for text, line_count, white_space, overflow_wrap in lines:
        assert line_count == 1, f"{text} is on {line_count} lines"
        assert (white_space, overflow_wrap) == ("nowrap", "normal"), text


async def test_a_long_message_opens_at_its_start(sandbox: Sandbox, browser: Browser) -> None:
    """The welcome and its seven buttons are taller than a phone's chat: it opens at its start
    (not at its last button)."""
    page = await browser.new_page(viewport=PHONE, locale="fr-FR")
    await start(page, sandbox.url, "Léa (apprenti·e)")
    welcome = chat(page).locator("li.msg.bot", has_text="Qui êtes-vous").last
    await expect(welcome.locator(".keyboard button")).not_to_have_count(0)
    geometry = await page.evaluate(
        """(item) => { const log = document.getElementById("chat-log").getBoundingClientRect();
          const r = item.getBoundingClientRect();
          return {log_top: log.top, log_height: log.height, top: r.top, height: r.height}; }""",
        await welcome.element_handle(),
    )
    assert geometry["height"] > geometry["log_height"], "the welcome should be taller than the view"
    # Its first line is in view, under the top of the chat.
    assert geometry["log_top"] - 1 <= geometry["top"] <= geometry["log_top"] + 24


async def newest_message_in_view(page: Page) -> dict[str, float]:
    """Where the chat's newest message is: its top must be inside the visible part of the chat
    (and the whole message, when it is shorter than that part), the chat inside the window."""
    await page.wait_for_timeout(300)  # the bot's edits after its answer, and their scrolling
    return dict(
        await page.evaluate(
            """() => { const log = document.getElementById("chat-log");
              const box = log.getBoundingClientRect();
              const r = log.querySelector("li.msg:last-child").getBoundingClientRect();
              return {top: r.top, bottom: r.bottom, height: r.height, log_top: box.top,
                      log_bottom: box.bottom, window: innerHeight}; }"""
        )
    )


def is_in_view(where: dict[str, float]) -> bool:
    """Read from :func:`newest_message_in_view`."""
    visible_top, visible_bottom = where["log_top"], min(where["log_bottom"], where["window"])
    top_shown = visible_top - 1 <= where["top"] <= visible_bottom - 24
    fits = where["height"] <= visible_bottom - visible_top
    return top_shown and (not fits or where["bottom"] <= visible_bottom + 1)


async def press_and_see(page: Page, label: str, answer: str) -> None:
    """Press the newest button labelled ``label``; the bot's answer containing ``answer`` is
    the newest message, and it is on screen (Playwright scrolls to the button first: a page
    that scrolls back to an older message after the answer fails here)."""
    await press(page, label)
    await last_bot_says(page, answer)
    where = await newest_message_in_view(page)
    assert is_in_view(where), f"after « {label} », the newest message is off-screen: {where}"


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["phone", "laptop"])
async def test_the_answer_to_a_button_is_on_screen(
    sandbox: Sandbox, browser: Browser, tmp_path: Path, viewport: dict[str, int]
) -> None:
    """After each button (the CGU, the recovery choice, a question, « 🆘 Je bloque » and
    « Reprendre »), the chat shows the bot's answer, not the CGU it scrolled back to."""
    page = await browser.new_page(viewport=viewport, locale="fr-FR")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await walk_to_cgu(page, sandbox.url, "Léa (apprenti·e)", "lea.demo", "Demo-Lea-2026")
    await press_and_see(page, "J'accepte", "Étape 3")
    await page.screenshot(path=str(tmp_path / "after-cgu.png"))
    await press_and_see(page, "questions secrètes", "Questions secrètes (1 sur 2)")
    await press_and_see(page, "premier animal", "Tapez votre réponse")
    await press_and_see(page, "Je bloque", "Quel est le problème")
    await press_and_see(page, "Reprendre", "Tapez votre réponse")
    await page.screenshot(path=str(tmp_path / "after-resume.png"))
    assert errors == []


async def test_buttons_from_the_keyboard_alone(sandbox: Sandbox, browser: Browser) -> None:
    """Enter on a focused button: the focus goes on to the first button of the bot's answer (not
    to the page's start), so the next step is one key away, and its answer is on screen."""
    page = await browser.new_page(viewport=PHONE, locale="fr-FR")
    await walk_to_cgu(page, sandbox.url, "Léa (apprenti·e)", "lea.demo", "Demo-Lea-2026")
    await chat(page).locator(".keyboard button", has_text="J'accepte").last.focus()
    await page.keyboard.press("Enter")
    await last_bot_says(page, "Étape 3")
    by_email = chat(page).locator(".keyboard button", has_text="Par e-mail").last
    await expect(by_email).to_be_focused()
    assert is_in_view(await newest_message_in_view(page))
    await page.keyboard.press("Tab")
    await expect(chat(page).locator(".keyboard button", has_text="questions").last).to_be_focused()
    await page.keyboard.press("Enter")
    await last_bot_says(page, "Questions secrètes (1 sur 2)")
    await expect(chat(page).locator(".keyboard button").last).to_be_attached()
    first_question = chat(page).locator("li.msg.bot").last.locator(".keyboard button").first
    await expect(first_question).to_be_focused()
    assert is_in_view(await newest_message_in_view(page))


async def wcag_violations(page: Page) -> list[str]:
    """axe-core's WCAG 2.1 AA violations on the page as it is now, one line each."""
    assert Axe is not None
    results = await Axe().run(page, options=WCAG_21_AA)
    return [
        f"{rule['id']}: {rule['help']} {[node['target'] for node in rule['nodes']]}"
        for rule in results.response["violations"]
    ]


@pytest.mark.skipif(Axe is None, reason="axe-playwright-python is not installed ('.[test]')")
@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["phone", "laptop"])
async def test_wcag_2_1_aa_by_axe_core(
    sandbox: Sandbox, browser: Browser, viewport: dict[str, int]
) -> None:
    """No axe-core violation of WCAG 2.1 A/AA: the first screen, a chat with buttons and a
    notice, an e-mail open, the accounts and the team's group."""
    page = await browser.new_page(viewport=viewport, locale="fr-FR")
    refused = refused_by_the_policy(page)
    await page.goto(sandbox.url)
    await expect(page.locator("#person-select option")).not_to_have_count(0)
    seen = {"first screen": await wcag_violations(page)}
    await walk_to_code_mail(page, sandbox.url, "Léa (apprenti·e)", "lea.demo", "Demo-Lea-2026")
    await page.evaluate("notice('📨 Nouvel e-mail : Confirmez votre adresse e-mail')")
    seen["an e-mail open, a notice"] = await wcag_violations(page)
    await show(page, "Discussion")
    await press(page, "Je bloque")
    await last_bot_says(page, "Quel est le problème")
    seen["the chat after a press"] = await wcag_violations(page)
    await page.get_by_role("tab", name="Comptes").click()
    seen["the accounts"] = await wcag_violations(page)
    await page.get_by_role("tab", name=re.compile("^Équipe")).click()
    seen["the team"] = await wcag_violations(page)
    assert {state: found for state, found in seen.items() if found} == {}
    assert refused == []


async def test_emoji_without_an_emoji_font(sandbox: Sandbox, browser: Browser) -> None:
    """The machine has no emoji font: the page's own (Noto Color Emoji, cut down) draws them
    in colour instead of boxes."""
    page = await browser.new_page(viewport=PHONE, locale="fr-FR")
    await page.goto(sandbox.url)
    drawn = await page.evaluate(
        """async () => {
          const faces = await document.fonts.load('32px "Sandbox Emoji"', "🔒");
          const canvas = document.createElement("canvas");
          canvas.width = canvas.height = 48;
          const context = canvas.getContext("2d");
          context.font = '32px "Sandbox Emoji"';
          context.fillText("🔒", 4, 38);
          const data = context.getImageData(0, 0, 48, 48).data;
          let coloured = 0;
          for (let i = 0; i < data.length; i += 4) {
            const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
            if (a > 0 && Math.max(r, g, b) - Math.min(r, g, b) > 40) coloured++;
          }
          return { faces: faces.length, coloured,
                   family: getComputedStyle(document.body).fontFamily };
        }"""
    )
    assert drawn["faces"] >= 1
    assert drawn["coloured"] > 50
    assert "Sandbox Emoji" in drawn["family"]


class CountingPage:
    """The user's actions in the page: every message sent, every button tapped, every link of
    an e-mail or QR code opened."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.actions = 0

    async def press(self, label: str) -> None:
        self.actions += 1
        await press(self.page, label)

    async def type_and_send(self, text: str) -> None:
        self.actions += 1
        await type_and_send(self.page, text)

    async def click(self, locator: Locator) -> None:
        self.actions += 1
        await locator.click()


async def _from_provisional_to_active(user: CountingPage, account: str, password: str) -> None:
    """Provisional password, CGU, e-mail (sent at once), the e-mail's link, the password twice."""
    page = user.page
    await user.type_and_send(password)
    await expect(chat(page)).to_contain_text("Conditions Générales", timeout=10_000)
    await user.press("J'accepte")
    await last_bot_says(page, "Étape 3")
    await user.press("Par e-mail")
    await last_bot_says(page, "adresse")
    await user.type_and_send(f"{account}@example.org")
    await last_bot_says(page, "indésirables")
    await show(page, "Boîte mail")
    mail = page.locator("#mail-list button", has_text=f"{account}@example.org").first
    await expect(mail).to_be_visible(timeout=10_000)
    await mail.click()  # reading the e-mail is not an action of the procedure
    await user.click(page.locator("#mail-text a", has_text="start=").first)
    await expect(chat(page)).to_contain_text("Adresse e-mail confirmée", timeout=10_000)
    await user.type_and_send(NEW_PASSWORD)
    await last_bot_says(page, "deuxième fois")
    await user.type_and_send(NEW_PASSWORD)
    await last_bot_says(page, "activé")


async def test_from_a_letter_s_qr_code_to_active_in_eight_actions(
    sandbox: Sandbox, browser: Browser
) -> None:
    page = await browser.new_page(viewport=PHONE, locale="fr-FR")
    await page.goto(sandbox.url)
    await expect(page.locator("#person-select option")).not_to_have_count(0)
    await choose_person(page, "Léa (apprenti·e)")
    user = CountingPage(page)
    await show(page, "Comptes")
    await user.click(page.get_by_role("button", name="Scanner le QR code du courrier de Léa"))
    await last_bot_says(page, "Courrier reconnu")
    await expect(chat(page)).to_contain_text("📄 QR code du courrier scanné")
    await _from_provisional_to_active(user, "lea.demo", "Demo-Lea-2026")
    assert user.actions == 8


async def test_from_start_activer_to_active_in_nine_actions(
    sandbox: Sandbox, browser: Browser
) -> None:
    page = await browser.new_page(viewport=PHONE, locale="fr-FR")
    await page.goto(sandbox.url)
    await expect(page.locator("#person-select option")).not_to_have_count(0)
    await choose_person(page, "Paul (maître d'apprentissage)")
    user = CountingPage(page)
    await user.type_and_send("/start activer")  # the letter's printed link
    await last_bot_says(page, "identifiant")
    await user.type_and_send("paul.demo")
    await last_bot_says(page, "provisoire")
    await _from_provisional_to_active(user, "paul.demo", "Demo-Paul-2026")
    assert user.actions == 9


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["phone", "laptop"])
async def test_a_ticket_round_trip_between_the_user_and_the_team(
    sandbox: Sandbox, browser: Browser, tmp_path: Path, viewport: dict[str, int]
) -> None:
    """The visitor, as a user, taps « 🆘 Je bloque » → « Écrire à l'équipe » and writes; then, in
    « Équipe » (a tab on a phone, beside the chat on a laptop), sees the ticket's topic with its
    context card and the message, answers as staff; the user's chat shows the answer, signed
    by the school's team, without the staff member's name."""
    page = await browser.new_page(viewport=viewport, locale="fr-FR")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(sandbox.url)
    await expect(page.locator("#person-select option")).not_to_have_count(0)
    await choose_person(page, "Léa (apprenti·e)")
    await type_and_send(page, "/aide")
    await press(page, "Je bloque")
    await last_bot_says(page, "Quel est le problème")
    await press(page, "Écrire à l'équipe")
    await last_bot_says(page, "Écrivez votre message")
    await type_and_send(page, "Je ne trouve pas mon courrier")
    await last_bot_says(page, "demande n° 1")

    await page.get_by_role("tab", name=re.compile("^Équipe")).click()
    topic = page.locator("#topic-list button", has_text="#1")
    await expect(topic).to_be_visible(timeout=10_000)
    await topic.click()
    log = page.locator("#topic-log")
    await expect(log.locator("li.msg.bot").first).to_contain_text("🆘 Demande #1 · Léa")
    await expect(log).to_contain_text("Je ne trouve pas mon courrier")
    answer = page.get_by_label("Réponse de l'équipe")
    await answer.fill("Le secrétariat vous en redonne un, passez le voir.")
    await page.get_by_role("button", name="Répondre", exact=True).click()
    await expect(answer).to_have_value("")
    await expect(log.locator("li.msg.user")).to_contain_text("Le secrétariat vous en redonne un")
    small = await page.evaluate(
        """() => [...document.querySelectorAll(
            "#panel-team button, #panel-team textarea, [role=tab]")]
          .filter((e) => e.offsetParent !== null)
          .filter((e) => e.getBoundingClientRect().height < 44)
          .map((e) => e.id || e.textContent.trim())"""
    )
    assert small == []
    assert await page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    await page.evaluate("document.getElementById('notice').hidden = true")
    await page.screenshot(path=str(tmp_path / "sandbox-team.png"))

    await show(page, "Discussion")
    await last_bot_says(page, "Le secrétariat vous en redonne un")
    signed = chat(page).locator("li.msg.bot").last
    await expect(signed).to_contain_text("L'équipe de CFA Exemple")
    await expect(signed).not_to_contain_text("Camille")
    assert errors == []
