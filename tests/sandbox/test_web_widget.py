"""The web channel's widget on the sandbox's imitation of the ENT page (``/ent/``), in headless
Chromium: the demo path by keyboard only on a phone and a laptop, axe-core at each step, the
secret gone from the DOM and storage, a reload mid-step, two people apart, a forged id, no
connection before the panel opens, CSP violations failing the test, and the no-JavaScript
version. The engine is the demo one until step 2 of issue 24 binds the procedures.

``WEB_PHONE_SCREENSHOT=docs/web-phone.png pytest tests/sandbox/test_web_widget.py -k phone``
writes the README's picture of the panel on a phone."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.sandbox.run import Sandbox
from bot.texts import web as texts

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
SECRET = "Velo-Rouge-Soleil-42"
WCAG_21_AA = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
# Every frame reports a CSP refusal on its console (init scripts run despite the CSP).
CSP_WATCH = (
    "document.addEventListener('securitypolicyviolation', (e) => "
    "console.error('Content Security Policy violation: ' + e.violatedDirective + ' ' "
    "+ e.blockedURI));"
)

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="/usr/bin/chromium is missing (Debian package 'chromium'; .ci/run installs it)",
)

try:
    from playwright.async_api import Browser, Frame, Page, async_playwright, expect
except ImportError:  # pragma: no cover - playwright is in the [test] extra
    pytestmark = pytest.mark.skip(reason="playwright is not installed (pip install -e '.[test]')")

try:
    from axe_playwright_python.async_playwright import Axe
except ImportError:  # pragma: no cover - in the [test] extra
    Axe = None


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[Browser]:
    """Headless Chromium from Debian (no browser download)."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        await launched.close()


def ent_url(sandbox: Sandbox) -> str:
    return f"{sandbox.server.root_url}/ent/"


def watch_csp(page: Page) -> list[str]:
    """Chromium's CSP refusals in the page and its frames, from now on."""
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return refused


async def violations(frame: Frame | Page) -> list[str]:
    """axe-core's serious or critical WCAG 2.1 A/AA violations, one line each."""
    assert Axe is not None
    results = await Axe().run(frame, options=WCAG_21_AA)
    return [
        f"{rule['id']} ({rule['impact']}): {rule['help']} {[n['target'] for n in rule['nodes']]}"
        for rule in results.response["violations"]
        if rule["impact"] in ("serious", "critical")
    ]


async def open_by_keyboard(page: Page) -> Frame:
    """Tab to the ENT page's button, press Enter: the panel's frame, its text box focused."""
    await page.keyboard.press("Tab")
    opener = page.get_by_role("button", name=texts.OPEN_BUTTON)
    await expect(opener).to_be_focused()
    await page.keyboard.press("Enter")
    handle = await page.wait_for_selector("iframe[title]")
    frame = await handle.content_frame()
    assert frame is not None
    await frame.wait_for_selector("#log .msg-bot")
    return frame


async def bot_says(frame: Frame, text: str) -> None:
    await expect(frame.locator("#log .msg-bot").last).to_contain_text(text)


async def log_texts(frame: Frame) -> list[str]:
    return [t.strip() for t in await frame.locator("#log .msg p").all_inner_texts()]


async def newest_and_box_visible(frame: Frame) -> bool:
    """The text box (or password field) and the newest message are inside the panel's view."""
    return bool(
        await frame.evaluate(
            """() => {
              const box = document.querySelector(
                '#text-field:not([hidden]) input, #secret-field:not([hidden]) input');
              const log = document.getElementById('log').getBoundingClientRect();
              const last = [...document.querySelectorAll('#log .msg')].pop()
                .getBoundingClientRect();
              const b = box.getBoundingClientRect();
              const inside = (r) => r.top >= -1 && r.bottom <= innerHeight + 1
                && r.left >= -1 && r.right <= innerWidth + 1;
              return inside(b) && last.top >= log.top - 1 && last.top <= log.bottom - 16;
            }"""
        )
    )


async def secret_nowhere(page: Page, frame: Frame) -> None:
    """The secret is in no DOM (markup, text, input values), no storage and no cookie."""
    for where in (page.main_frame, frame):
        found = await where.evaluate(
            """(secret) => {
              const values = [...document.querySelectorAll('input')].map((i) => i.value);
              const storage = [sessionStorage, localStorage].flatMap((s) =>
                Object.keys(s).map((k) => k + '=' + s.getItem(k)));
              return [document.documentElement.outerHTML, document.body.innerText,
                      ...values, ...storage, document.cookie].filter((t) => t.includes(secret));
            }""",
            SECRET,
        )
        assert found == []
    assert await page.context.cookies() == []


@pytest.mark.skipif(Axe is None, reason="axe-playwright-python is not installed ('.[test]')")
@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["phone", "laptop"])
async def test_demo_path_by_keyboard_only(
    sandbox: Sandbox, browser: Browser, viewport: dict[str, int]
) -> None:
    context = await browser.new_context(viewport=viewport, locale="fr-FR")
    await context.add_init_script(CSP_WATCH)
    page = await context.new_page()
    refused = watch_csp(page)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    await page.goto(ent_url(sandbox))
    await page.wait_for_load_state("networkidle")
    before = [url for url in requested if "/web/" in url]
    assert before == [f"{sandbox.server.root_url}/web/widget.js"], before
    seen = {"ENT page": await violations(page)}

    frame = await open_by_keyboard(page)
    await bot_says(frame, texts.DEMO_ASK_IDENTIFIER)
    log = frame.get_by_role("log")
    await expect(log).to_have_attribute("aria-live", "polite")
    box = frame.get_by_role("textbox", name=re.compile("message", re.I))
    await expect(box).to_be_focused()
    await expect(box).to_have_attribute("autocomplete", "username")
    assert await newest_and_box_visible(frame)
    seen["identifier"] = await violations(frame)

    await page.keyboard.type("jdupont")
    await page.keyboard.press("Enter")
    await bot_says(frame, texts.DEMO_ASK_PASSWORD)
    password = frame.locator("input[type=password]")
    await expect(password).to_be_visible()
    await expect(password).to_be_focused()
    await expect(password).to_have_attribute("autocomplete", "new-password")
    assert await newest_and_box_visible(frame)
    seen["secret"] = await violations(frame)

    if viewport == PHONE and os.environ.get("WEB_PHONE_SCREENSHOT"):
        await page.screenshot(path=os.environ["WEB_PHONE_SCREENSHOT"])
    await page.keyboard.type(SECRET)
    await page.keyboard.press("Tab")  # the show/hide toggle, by keyboard
    toggle = frame.get_by_role("button", name=texts.SHOW_SECRET)
    await expect(toggle).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(frame.locator("#secret")).to_have_attribute("type", "text")
    await expect(frame.get_by_role("button", name=texts.HIDE_SECRET)).to_have_attribute(
        "aria-pressed", "true"
    )
    await page.keyboard.press("Shift+Tab")
    await page.keyboard.press("Enter")
    await bot_says(frame, texts.DEMO_ASK_CONFIRM)
    await secret_nowhere(page, frame)
    confirm = frame.get_by_role("button", name=texts.DEMO_CONFIRM_BUTTON)
    await expect(confirm).to_be_focused()
    seen["choice"] = await violations(frame)

    await page.keyboard.press("Enter")
    await bot_says(frame, texts.DEMO_DONE)
    assert await newest_and_box_visible(frame)
    seen["done"] = await violations(frame)
    texts_shown = await log_texts(frame)
    assert any(texts.SECRET_SENT in t for t in texts_shown)
    await secret_nowhere(page, frame)
    assert {step: found for step, found in seen.items() if found} == {}
    assert refused == []
    await context.close()


async def test_help_and_resume_buttons(sandbox: Sandbox, browser: Browser) -> None:
    page = await browser.new_page(viewport=PHONE, locale="fr-FR")
    await page.goto(ent_url(sandbox))
    frame = await open_by_keyboard(page)
    await frame.get_by_role("button", name=texts.DEMO_HELP_BUTTON).click()
    await bot_says(frame, texts.DEMO_HELP.split(".")[0])
    await frame.get_by_role("button", name=texts.DEMO_RESUME_BUTTON).click()
    await bot_says(frame, texts.DEMO_ASK_IDENTIFIER)
    # Only the newest message's buttons remain: an old one cannot be pressed again.
    await expect(frame.get_by_role("button", name=texts.DEMO_RESUME_BUTTON)).to_have_count(0)


async def test_reload_mid_step_resumes_nothing_lost_or_doubled(
    sandbox: Sandbox, browser: Browser
) -> None:
    page = await browser.new_page(viewport=PHONE, locale="fr-FR")
    refused = watch_csp(page)
    await page.goto(ent_url(sandbox))
    frame = await open_by_keyboard(page)
    await page.keyboard.type("jdupont")
    await page.keyboard.press("Enter")
    await bot_says(frame, texts.DEMO_ASK_PASSWORD)
    before = await log_texts(frame)
    await page.reload()
    frame = await open_by_keyboard(page)
    await bot_says(frame, texts.DEMO_ASK_PASSWORD)
    await page.wait_for_timeout(300)
    assert await log_texts(frame) == before
    await expect(frame.locator("input[type=password]")).to_be_visible()
    # The panel closed and opened again keeps its conversation too.
    await page.keyboard.press("Escape")
    await expect(page.get_by_role("button", name=texts.OPEN_BUTTON)).to_be_focused()
    await page.keyboard.press("Enter")
    assert await log_texts(frame) == before
    assert refused == []


async def test_two_people_never_see_each_other(sandbox: Sandbox, browser: Browser) -> None:
    first = await (await browser.new_context(viewport=PHONE)).new_page()
    second = await (await browser.new_context(viewport=LAPTOP)).new_page()
    await first.goto(ent_url(sandbox))
    await second.goto(ent_url(sandbox))
    one = await open_by_keyboard(first)
    two = await open_by_keyboard(second)
    await first.keyboard.type("alice.premiere")
    await first.keyboard.press("Enter")
    await bot_says(one, texts.DEMO_ASK_PASSWORD)
    await second.keyboard.type("bob.second")
    await second.keyboard.press("Enter")
    await bot_says(two, texts.DEMO_ASK_PASSWORD)
    await first.wait_for_timeout(300)
    assert not any("bob.second" in t for t in await log_texts(one))
    assert not any("alice.premiere" in t for t in await log_texts(two))
    ids = [
        await frame.evaluate("sessionStorage.getItem('ent-assistant-conversation')")
        for frame in (one, two)
    ]
    assert ids[0] and ids[1] and ids[0] != ids[1]


async def test_a_forged_id_gets_a_fresh_conversation(sandbox: Sandbox, browser: Browser) -> None:
    context = await browser.new_context(viewport=PHONE)
    forged = "A" * 22
    page = await context.new_page()
    await page.goto(f"{sandbox.server.root_url}/web/panel")
    await page.wait_for_selector("#log .msg-bot")
    await page.evaluate(f"sessionStorage.setItem('ent-assistant-conversation', '{forged}')")
    await page.reload()
    await expect(page.locator("#log .msg-bot").last).to_contain_text(texts.DEMO_ASK_IDENTIFIER)
    kept = await page.evaluate("sessionStorage.getItem('ent-assistant-conversation')")
    assert kept and kept != forged
    assert len(await log_texts(page.main_frame)) == 2  # the greeting and the first step only


async def test_without_javascript_the_demo_completes(sandbox: Sandbox, browser: Browser) -> None:
    context = await browser.new_context(java_script_enabled=False, viewport=PHONE)
    page = await context.new_page()
    refused = watch_csp(page)
    await page.goto(ent_url(sandbox))
    await page.get_by_role("link", name=texts.NOSCRIPT_LINK).click()
    await page.get_by_role("button", name=texts.NO_JS_START).click()
    await expect(page.locator("#conversation")).to_contain_text(texts.DEMO_ASK_IDENTIFIER)
    await page.get_by_label(texts.MESSAGE_LABEL).fill("jdupont")
    await page.get_by_role("button", name=texts.SEND_BUTTON).click()
    await expect(page.locator("#conversation")).to_contain_text(texts.DEMO_ASK_PASSWORD)
    password = page.locator("input[type=password]")
    await expect(password).to_have_attribute("autocomplete", "new-password")
    await password.fill(SECRET)
    await page.get_by_role("button", name=texts.SEND_BUTTON).click()
    await expect(page.locator("#conversation")).to_contain_text(texts.DEMO_ASK_CONFIRM)
    assert SECRET not in await page.content()
    await page.get_by_role("button", name=texts.DEMO_CONFIRM_BUTTON).click()
    await expect(page.locator("#conversation")).to_contain_text(texts.DEMO_DONE)
    assert await context.cookies() == []
    assert refused == []
    # The same pages, with JavaScript on (axe needs it), have no serious WCAG violation.
    if Axe is not None:
        checked = await browser.new_page(viewport=PHONE)
        await checked.goto(page.url)
        assert await violations(checked) == []


async def test_the_csp_watch_sees_a_refusal(sandbox: Sandbox, browser: Browser) -> None:
    """The guard of the other tests works: an inline script in the panel is refused, and seen."""
    context = await browser.new_context()
    await context.add_init_script(CSP_WATCH)
    page = await context.new_page()
    refused = watch_csp(page)
    await page.goto(f"{sandbox.server.root_url}/web/panel")
    await page.wait_for_selector("#log .msg-bot")
    await page.evaluate(
        "document.body.appendChild(Object.assign(document.createElement('script'), "
        "{textContent: 'window.inline = 1'}))"
    )
    await page.wait_for_timeout(200)
    assert await page.evaluate("window.inline") is None
    assert refused != []


async def test_zoom_200_focus_visible_and_reduced_motion(
    sandbox: Sandbox, browser: Browser
) -> None:
    """A laptop at 200 % zoom (1280 × 800 → 640 × 400 CSS pixels): the panel reflows without a
    horizontal scroll, the text box and the newest message in view; the focus ring is drawn;
    with reduced motion nothing animates."""
    context = await browser.new_context(
        viewport={"width": 640, "height": 400}, device_scale_factor=2, reduced_motion="reduce"
    )
    page = await context.new_page()
    await page.goto(ent_url(sandbox))
    frame = await open_by_keyboard(page)
    await page.keyboard.type("jdupont")
    await page.keyboard.press("Enter")
    await bot_says(frame, texts.DEMO_ASK_PASSWORD)
    assert await newest_and_box_visible(frame)
    assert await frame.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    ring = await frame.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement);"
        " return [document.activeElement.id, s.outlineStyle, s.outlineWidth]; })()"
    )
    assert ring[0] == "secret" and ring[1] != "none" and ring[2] != "0px"
    motion = await frame.evaluate(
        "getComputedStyle(document.querySelector('.choice')).transitionDuration"
    )
    assert motion in ("0s", "")
    await context.close()


async def test_lost_connection_resumes_nothing_lost_or_doubled(
    sandbox: Sandbox, browser: Browser
) -> None:
    """Offline mid-step while the conversation moves on elsewhere (here: its id used over the
    API, as a staff answer will in step 2): back online, the page shows what came, once."""
    import httpx

    page = await browser.new_page(viewport=PHONE, locale="fr-FR")
    await page.goto(ent_url(sandbox))
    frame = await open_by_keyboard(page)
    conversation = await frame.evaluate("sessionStorage.getItem('ent-assistant-conversation')")
    await page.context.set_offline(True)
    await expect(frame.locator("#status")).to_have_text(texts.OFFLINE, timeout=15_000)
    root = sandbox.server.root_url
    async with httpx.AsyncClient(base_url=root, timeout=5) as http:
        sent = await http.post(
            "/web/api/input",
            json={"kind": "text", "text": "jdupont"},
            headers={"Origin": root, "X-Conversation": conversation},
        )
        assert sent.status_code == 200
    await page.context.set_offline(False)
    await bot_says(frame, texts.DEMO_ASK_PASSWORD)
    await expect(frame.locator("#status")).to_have_text("")
    shown = await log_texts(frame)
    assert len(shown) == len(set(shown)) == 4  # greeting, question, « jdupont », next step
