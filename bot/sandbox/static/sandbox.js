// Sandbox page: plain JavaScript, no build step, nothing fetched from the Internet.
// Bot texts are rendered from Telegram entities by building DOM nodes, never as HTML.
"use strict";

const API = "/sandbox/api";
const state = {
  bot: { username: "", first_name: "" },
  commands: [],
  accounts: [],
  users: [],            // [{id, first_name, label, messages: [...]}]
  mails: [],
  current: null,        // id of the person whose chat is shown
  openMail: null,       // id of the e-mail shown
  mailMode: "text",
  unread: new Set(),
  unreadMail: false,
  tab: "chat",          // the panel shown on a narrow screen: chat, mail, team or accounts
  side: "mail",         // the panel beside the chat on a wide screen: mail, team or accounts
  team: null,           // the staff group: {id, title, staff, topics: [{thread_id, name, closed, messages}]}
  openTopic: null,      // thread id of the topic shown in « Équipe »
  unreadTeam: false,
  anchor: null,         // first bot message since the user's last one (see scrollChat)
  focusAnswer: false,   // a focused button was pressed: its answer's first button gets the focus
};
const WIDE = window.matchMedia("(min-width: 900px)");
const LINK_OPENED = "🔗 Lien de l'e-mail ouvert";
const LETTER_SCANNED = "📄 QR code du courrier scanné";

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

// --- API ---------------------------------------------------------------------------------

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  };
  const response = await fetch(API + path, options);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    notice(data.message || "Erreur du bac à sable.");
    throw new Error(data.error || String(response.status));
  }
  return data;
}

async function loadState() {
  const data = await api("/state");
  state.bot = data.bot;
  state.commands = data.commands;
  state.accounts = data.demo_accounts;
  state.users = data.users;
  state.mails = data.mails;
  state.team = data.team;
  if (!state.users.some((u) => u.id === state.current)) {
    state.current = state.users.length ? state.users[0].id : null;
  }
  if (!state.mails.some((m) => m.id === state.openMail)) state.openMail = null;
  renderAll();
}

function currentUser() {
  return state.users.find((u) => u.id === state.current) || null;
}

function userById(id) {
  return state.users.find((u) => u.id === id) || null;
}

// --- Telegram entities → DOM -----------------------------------------------------------

const SAFE_URL = /^(https?:|tg:|mailto:)/i;

function entityNode(entity, text) {
  switch (entity.type) {
    case "bold": return el("strong");
    case "italic": return el("em");
    case "underline": return el("u");
    case "strikethrough": return el("s");
    case "code": return el("code");
    case "pre": return el("pre");
    case "blockquote":
    case "expandable_blockquote": return el("blockquote");
    case "spoiler": {
      const span = el("span", { class: "spoiler", tabindex: "0", role: "button",
        "aria-label": "Texte masqué, appuyez pour l'afficher" });
      const reveal = () => { span.classList.add("revealed"); span.removeAttribute("role");
        span.removeAttribute("aria-label"); };
      span.addEventListener("click", reveal);
      span.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") reveal(); });
      return span;
    }
    case "text_link": return link(entity.url);
    case "url": return link(/^[a-z]+:/i.test(text) ? text : "http://" + text);
    case "email": return link("mailto:" + text);
    case "bot_command": {
      const command = el("span", { class: "bot-command", role: "button", tabindex: "0",
        title: "Envoyer cette commande" });
      const send = () => sendText(text);
      command.addEventListener("click", send);
      command.addEventListener("keydown", (e) => { if (e.key === "Enter") send(); });
      return command;
    }
    default: return el("span");
  }
}

function link(url) {
  if (!SAFE_URL.test(url || "")) return el("span");
  return el("a", { href: url, target: "_blank", rel: "noopener noreferrer" });
}

// Entities are properly nested (Telegram HTML); offsets are UTF-16 units, like JS strings.
function renderEntities(text, entities) {
  const sorted = [...(entities || [])]
    .filter((e) => e.length > 0)
    .sort((a, b) => a.offset - b.offset || b.length - a.length);
  const fragment = document.createDocumentFragment();
  let index = 0;
  function build(parent, start, end) {
    let cursor = start;
    while (index < sorted.length && sorted[index].offset < end) {
      const entity = sorted[index];
      if (entity.offset < cursor) { index++; continue; }  // overlapping: ignore
      if (entity.offset > cursor) parent.append(text.slice(cursor, entity.offset));
      const stop = Math.min(entity.offset + entity.length, end);
      const node = entityNode(entity, text.slice(entity.offset, stop));
      index++;
      build(node, entity.offset, stop);
      parent.append(node);
      cursor = stop;
    }
    if (cursor < end) parent.append(text.slice(cursor, end));
  }
  build(fragment, 0, text.length);
  return fragment;
}

// --- deep links: a t.me/<bot>?start=<payload> link continues the chat here -------------------

function deepLinkPayload(href) {
  let url;
  try { url = new URL(href, location.href); } catch { return null; }
  if (!/^(www\.)?(t|telegram)\.me$/i.test(url.hostname)) return null;
  if (url.pathname.replace(/\/$/, "").toLowerCase() !== "/" + state.bot.username.toLowerCase()) {
    return null;
  }
  const payload = url.searchParams.get("start");
  return payload && /^[A-Za-z0-9_-]{1,64}$/.test(payload) ? payload : null;
}

// A link in the chat continues that chat; a link in an e-mail, the chat of the person who
// asked for the e-mail (named by the server), whoever is selected.
function chatLinkClick(event) {
  const anchor = event.target.closest && event.target.closest("a[href]");
  if (!anchor) return;
  const payload = deepLinkPayload(anchor.getAttribute("href"));
  if (payload) {
    event.preventDefault();
    continueInChat(payload, state.current);
  }
}

function mailLinkClick(event) {
  const anchor = event.target.closest && event.target.closest("a[href]");
  if (!anchor) return;
  const payload = deepLinkPayload(anchor.getAttribute("href"));
  if (payload) {
    event.preventDefault();
    continueInChat(payload, mailOwner(openedMail()));
  }
}

function openedMail() {
  return state.mails.find((m) => m.id === state.openMail) || null;
}

// The person whose chat an e-mail's link continues: the server's answer, else the one who
// typed its address, else the person shown.
function mailOwner(mail) {
  if (!mail) return state.current;
  if (userById(mail.user_id)) return mail.user_id;
  const typed = state.users.find((u) => u.messages.some((m) => !m.from_bot
    && mail.to.some((address) => (m.text || "").toLowerCase().includes(address.toLowerCase()))));
  return typed ? typed.id : state.current;
}

async function continueInChat(payload, userId) {
  const user = userById(userId) || currentUser();
  if (!user) return;
  if (user.id !== state.current) selectUser(user.id);
  showTab("chat");
  await sendTextAs(user, "/start " + payload);
  notice("Lien de l'e-mail ouvert dans la discussion de " + user.first_name + ".");
  $("message-input").focus({ preventScroll: true });
}

function isLinkOpened(message) {
  const match = !message.from_bot && /^\/start ([A-Za-z0-9_-]{1,64})$/.exec(message.text || "");
  return Boolean(match) && state.mails.some((m) => m.deep_link_payload === match[1]);
}

function isLetterScanned(message) {
  const match = !message.from_bot && /^\/start (c_[A-Za-z0-9_-]{1,62})$/.exec(message.text || "");
  return Boolean(match) && state.accounts.some((a) => a.courrier === match[1]);
}

// --- chat ----------------------------------------------------------------------------------

function formatTime(seconds) {
  return new Date(seconds * 1000).toLocaleTimeString("fr-FR", { hour: "2-digit", minute: "2-digit" });
}

function messageNode(message) {
  const who = message.from_bot ? "bot" : "user";
  const bubble = el("div", { class: "bubble" });
  if (isLinkOpened(message)) {
    bubble.append(LINK_OPENED);
  } else if (isLetterScanned(message)) {
    bubble.append(LETTER_SCANNED);
  } else if (message.kind === "text" || message.text) {
    bubble.append(renderEntities(message.text, message.entities));
  }
  if (message.kind !== "text") {
    const kinds = { photo: "📷 Photo", sticker: "Autocollant", document: "📎 Document" };
    bubble.prepend(el("em", { text: (kinds[message.kind] || message.kind) + (message.text ? "\n" : "") }));
  }
  const meta = el("div", { class: "meta" },
    el("span", { class: "visually-hidden", text: message.from_bot ? state.bot.first_name + ", " : "Vous, " }),
    formatTime(message.date) + (message.edited ? " · modifié" : ""));
  const item = el("li", { class: "msg " + who, "data-message-id": message.message_id }, bubble, meta);
  const rows = message.reply_markup && message.reply_markup.inline_keyboard;
  if (rows && rows.length) {
    const keyboard = el("div", { class: "keyboard", role: "group", "aria-label": "Boutons du message" });
    for (const row of rows) {
      const line = el("div", { class: "keyboard-row" });
      for (const button of row) {
        if (button.url && SAFE_URL.test(button.url)) {
          line.append(el("a", { class: "url-button", href: button.url, target: "_blank",
            rel: "noopener noreferrer", text: button.text,
            "aria-label": button.text + " (ouvre un nouvel onglet)" }));
        } else if (button.callback_data !== undefined) {
          line.append(el("button", { type: "button", text: button.text, "data-callback": button.callback_data,
            onclick: (e) => press(message.message_id, button.callback_data, e.currentTarget) }));
        } else {
          line.append(el("button", { type: "button", text: button.text, disabled: true }));
        }
      }
      keyboard.append(line);
    }
    item.append(keyboard);
  }
  return item;
}

function renderChat() {
  const log = $("chat-log");
  const user = currentUser();
  log.replaceChildren(...(user ? user.messages.map(messageNode) : []));
  $("empty-chat").hidden = Boolean(user && user.messages.length);
  state.anchor = null;
  state.focusAnswer = false;
  scrollChat();
}

function nearBottom() {
  const log = $("chat-log");
  return log.scrollHeight - log.scrollTop - log.clientHeight < 80;
}

// To the end, unless the bot's messages since the user's last one are taller than the view:
// then to the start of the first of them, so that a long message is read from its beginning.
function scrollChat() {
  const log = $("chat-log");
  const anchor = state.anchor && state.anchor.isConnected ? state.anchor : null;
  if (anchor) {
    const top = anchor.getBoundingClientRect().top - log.getBoundingClientRect().top
      + log.scrollTop - 8;
    if (log.scrollHeight - top > log.clientHeight) {
      log.scrollTop = top;
      return;
    }
  }
  log.scrollTop = log.scrollHeight;
}

function appendMessage(message) {
  const node = messageNode(message);
  $("chat-log").append(node);
  $("empty-chat").hidden = true;
  if (!message.from_bot) {
    state.anchor = null;
    state.focusAnswer = false;
  } else if (!state.anchor) {
    state.anchor = node;
  }
  if (message.from_bot) focusAnswer(node);
  scrollChat();
}

// After a press on a focused button (from the keyboard; a click focuses it too), the focus
// goes to the first button of the bot's answer (the next step), instead of staying on a stale
// button or falling to the page's start.
function focusAnswer(node) {
  const log = $("chat-log");
  const active = document.activeElement;
  if (!state.focusAnswer || !(active === document.body || active === log || log.contains(active))) {
    return;
  }
  const first = node.querySelector(".keyboard button:not([disabled]), .keyboard a");
  if (!first) return;
  state.focusAnswer = false;
  first.focus({ preventScroll: true });
}

// An edit replaced the message holding the focus: the same button if it is still there,
// else the chat, until the answer comes (focusAnswer).
function keepFocus(node, data) {
  const same = data === null ? null
    : [...node.querySelectorAll(".keyboard button")].find((b) => b.dataset.callback === data);
  if (same) {
    same.focus({ preventScroll: true });
    return;
  }
  state.focusAnswer = true;
  $("chat-log").focus({ preventScroll: true });
}

function renderPeople() {
  const select = $("person-select");
  select.replaceChildren(...state.users.map((user) => el("option", {
    value: String(user.id),
    selected: user.id === state.current,
    text: user.label + (state.unread.has(user.id) ? " • nouveau message" : ""),
  })));
  if (state.current !== null) select.value = String(state.current);
}

function selectUser(id) {
  state.current = id;
  state.unread.delete(id);
  renderPeople();
  renderChat();
}

// --- tabs: on a narrow screen one panel at a time; on a wide one the chat and a side panel ---

function showTab(tab) {
  state.tab = tab;
  if (tab !== "chat") state.side = tab;
  if (tab === "mail") state.unreadMail = false;
  if (tab === "team") state.unreadTeam = false;
  renderTabs();
}

function renderTabs() {
  const layout = $("layout");
  layout.dataset.tab = state.tab;
  layout.dataset.side = state.side;
  const shown = WIDE.matches && state.tab === "chat" ? state.side : state.tab;
  for (const tab of document.querySelectorAll("[role=tab]")) {
    const selected = tab.dataset.tab === shown;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
  }
  const mailTab = $("tab-mail");
  mailTab.classList.toggle("unread", state.unreadMail);
  const count = state.mails.length;
  $("mail-count").textContent = String(count);
  mailTab.setAttribute("aria-label", "Boîte mail, " + count + " e-mail" + (count > 1 ? "s" : "")
    + (state.unreadMail ? ", dont un nouveau" : ""));
  const teamTab = $("tab-team");
  teamTab.hidden = !state.team;
  teamTab.classList.toggle("unread", state.unreadTeam);
  const topics = state.team ? state.team.topics.length : 0;
  $("team-count").textContent = String(topics);
  $("team-count").hidden = topics === 0;
  teamTab.setAttribute("aria-label", "Équipe, " + topics + " sujet" + (topics > 1 ? "s" : "")
    + (state.unreadTeam ? ", du nouveau" : ""));
}

function tabKeys(event) {
  const tabs = [...document.querySelectorAll("[role=tab]")].filter((t) => t.offsetParent !== null);
  const at = tabs.indexOf(document.activeElement);
  if (at < 0) return;
  let next = null;
  if (event.key === "ArrowRight") next = tabs[(at + 1) % tabs.length];
  else if (event.key === "ArrowLeft") next = tabs[(at - 1 + tabs.length) % tabs.length];
  else if (event.key === "Home") next = tabs[0];
  else if (event.key === "End") next = tabs[tabs.length - 1];
  if (!next) return;
  event.preventDefault();
  showTab(next.dataset.tab);
  next.focus();
}

function renderCommands() {
  const menu = $("commands-menu");
  menu.replaceChildren(...state.commands.map((c) => el("li", {},
    el("button", { type: "button", "data-command": c.command, onclick: () => { closeMenu(); $("message-input").focus(); sendText("/" + c.command); } },
      el("span", { class: "command", text: "/" + c.command }), c.description))));
  $("menu-button").disabled = state.commands.length === 0;
}

function openMenu() {
  $("commands-menu").hidden = false;
  $("menu-button").setAttribute("aria-expanded", "true");
  const first = $("commands-menu").querySelector("button");
  if (first) first.focus();
}

function closeMenu(focusButton = false) {
  $("commands-menu").hidden = true;
  $("menu-button").setAttribute("aria-expanded", "false");
  if (focusButton) $("menu-button").focus();
}

async function sendText(text) {
  await sendTextAs(currentUser(), text);
}

async function sendTextAs(user, text) {
  if (!user || !text.trim()) return;
  await api(`/users/${user.id}/messages`, { text });
}

// A press is the user's turn, like a typed message: the bot's answer is scrolled to (not the
// first bot message since the last typed one). The button is marked busy with aria-disabled,
// not disabled, so that it keeps the keyboard focus.
async function press(messageId, data, button) {
  const user = currentUser();
  if (!user || (button && button.getAttribute("aria-disabled") === "true")) return;
  state.anchor = null;
  state.focusAnswer = Boolean(button && button === document.activeElement);
  if (button) button.setAttribute("aria-disabled", "true");
  try {
    await api(`/users/${user.id}/press`, { message_id: messageId, data });
  } finally {
    if (button) setTimeout(() => { button.removeAttribute("aria-disabled"); }, 400);
  }
}

// A short notice over the page's title: always on screen, never over the chat.
let noticeTimer = null;
function notice(text) {
  const box = $("notice");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => { box.hidden = true; box.textContent = ""; }, 5000);
}

// --- mails ---------------------------------------------------------------------------------

function formatDate(iso) {
  return new Date(iso).toLocaleString("fr-FR", { dateStyle: "short", timeStyle: "medium" });
}

function renderMails() {
  renderTabs();
  $("mail-empty").hidden = state.mails.length > 0;
  const list = $("mail-list");
  list.replaceChildren(...[...state.mails].reverse().map((mail) => el("li", {},
    el("button", { type: "button", "data-mail-id": mail.id,
      "aria-current": mail.id === state.openMail ? "true" : "false",
      onclick: () => openMail(mail.id) },
    el("span", { class: "mail-subject", text: mail.subject || "(sans objet)" }),
    el("span", { class: "mail-line", text: "À " + mail.to.join(", ") + " · " + formatDate(mail.received_at) })))));
  renderMailView();
}

function openMail(id) {
  state.openMail = id;
  renderMails();
  $("mail-subject").focus({ preventScroll: true });
  $("mail-view").scrollIntoView({ block: "start" });
}

// Plain text with its URLs as links (built as DOM nodes).
function linkifiedText(text) {
  const fragment = document.createDocumentFragment();
  const pattern = /https?:\/\/[^\s<>"]+/g;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    fragment.append(text.slice(last, match.index));
    fragment.append(el("a", { href: match[0], target: "_blank", rel: "noopener noreferrer", text: match[0] }));
    last = match.index + match[0].length;
  }
  fragment.append(text.slice(last));
  return fragment;
}

function renderMailView() {
  const mail = state.mails.find((m) => m.id === state.openMail);
  const view = $("mail-view");
  view.hidden = !mail;
  if (!mail) {  // after a reset, the numbers start again: the next mail 1 is another one
    $("mail-html").removeAttribute("src");
    delete $("mail-html").dataset.mailId;
    return;
  }
  $("mail-subject").textContent = mail.subject || "(sans objet)";
  $("mail-subject").setAttribute("tabindex", "-1");
  $("mail-from").textContent = mail.from;
  $("mail-to").textContent = mail.to.join(", ");
  $("mail-date").textContent = formatDate(mail.received_at);
  const cont = $("mail-continue");
  cont.hidden = !mail.deep_link_payload;
  cont.onclick = () => continueInChat(mail.deep_link_payload, mailOwner(mail));
  $("mail-text").replaceChildren(linkifiedText(mail.text || "(pas de version texte)"));
  // The HTML part is a document of its own, served under a policy of its own (its inline
  // styles, nothing else), so that the page's policy allows no inline style.
  const frame = $("mail-html");
  if (frame.dataset.mailId !== String(mail.id)) {
    frame.dataset.mailId = String(mail.id);
    frame.src = `${API}/mails/${mail.id}/html`;
  }
  const showHtml = state.mailMode === "html";
  frame.hidden = !showHtml;
  $("mail-text").hidden = showHtml;
  $("show-text").setAttribute("aria-pressed", String(!showHtml));
  $("show-html").setAttribute("aria-pressed", String(showHtml));
}

// The HTML view runs no script (sandbox without allow-scripts); the page handles its links.
function wireMailFrame() {
  const frame = $("mail-html");
  frame.addEventListener("load", () => {
    const doc = frame.contentDocument;
    if (!doc) return;
    doc.addEventListener("click", (event) => {
      const anchor = event.target.closest && event.target.closest("a[href]");
      if (!anchor) return;
      event.preventDefault();
      const href = anchor.getAttribute("href");
      const payload = deepLinkPayload(href);
      if (payload) continueInChat(payload, mailOwner(openedMail()));
      else if (SAFE_URL.test(href)) window.open(href, "_blank", "noopener");
    });
  });
}

// --- the staff group (« Équipe ») -----------------------------------------------------------

async function loadTeam() {
  const data = await api("/team");
  const before = JSON.stringify(state.team);
  state.team = data.team;
  const shown = state.tab === "team" || (WIDE.matches && state.side === "team");
  if (!shown && before !== JSON.stringify(state.team)) state.unreadTeam = true;
  renderTeam();
}

function openedTopic() {
  const topics = state.team ? state.team.topics : [];
  return topics.find((t) => t.thread_id === state.openTopic) || null;
}

function teamPostNode(message) {
  const mine = !message.from_bot;
  const author = mine ? (message.author || "Équipe") + " (vous, équipe)" : state.bot.first_name;
  const bubble = el("div", { class: "bubble" }, el("div", { class: "author", text: author }),
    renderEntities(message.text || "", message.entities));
  const meta = el("div", { class: "meta" }, formatTime(message.date) + (message.edited ? " · modifié" : ""));
  return el("li", { class: "msg " + (mine ? "user" : "bot"), "data-message-id": message.message_id },
    bubble, meta);
}

function renderTeam() {
  renderTabs();
  const topics = state.team ? state.team.topics : [];
  if (!openedTopic()) state.openTopic = topics.length ? topics[0].thread_id : null;
  $("team-empty").hidden = topics.length > 0;
  $("topic-list").replaceChildren(...topics.map((topic) => el("li", {},
    el("button", { type: "button", "data-thread-id": topic.thread_id,
      "aria-current": topic.thread_id === state.openTopic ? "true" : "false",
      onclick: () => { state.openTopic = topic.thread_id; renderTeam(); $("topic-name").focus({ preventScroll: true }); } },
    el("span", { class: "topic-name", text: topic.name }),
    el("span", { class: "topic-state", text: (topic.closed ? " · fermé" : "") + " · "
      + topic.messages.length + " message" + (topic.messages.length > 1 ? "s" : "") })))));
  const topic = openedTopic();
  $("topic-view").hidden = !topic;
  if (!topic) return;
  $("topic-name").textContent = topic.name + (topic.closed ? " (fermé)" : "");
  $("topic-log").replaceChildren(...topic.messages.map(teamPostNode));
}

async function answerAsTeam(text) {
  const topic = openedTopic();
  if (!topic || !text.trim()) return;
  await api(`/team/topics/${topic.thread_id}/messages`, { text });
}

// --- demo accounts -------------------------------------------------------------------------

// Touching a value writes it in the message box and shows the chat.
function renderAccounts() {
  const insert = (value, label, what) => el("button", { type: "button",
    "aria-label": `Écrire ${what} ${value} dans la zone de saisie`,
    onclick: () => {
      const input = $("message-input");
      input.value = value;
      showTab("chat");
      input.focus({ preventScroll: true });
    } },
  el("span", { class: "what", text: label }), el("span", { class: "demo-value", text: value }));
  $("accounts-list").replaceChildren(...state.accounts.map((a) => el("li", { class: "account" },
    el("p", { class: "who" }, el("strong", { text: a.prenom + " " + a.nom }), " ",
      el("small", { text: a.profil })),
    el("div", { class: "values" },
      insert(a.identifiant, "Identifiant", "l'identifiant"),
      insert(a.mot_de_passe_provisoire, "Mot de passe provisoire", "le mot de passe provisoire")),
    a.courrier ? el("button", { type: "button", class: "scan-letter",
      "aria-label": `Scanner le QR code du courrier de ${a.prenom}`,
      onclick: async () => {
        showTab("chat");
        await sendText("/start " + a.courrier);
        $("message-input").focus({ preventScroll: true });
      } }, "📄 Scanner le QR code du courrier") : "")));
}

function renderAll() {
  $("bot-name").textContent = state.bot.first_name;
  renderPeople();
  renderChat();
  renderCommands();
  renderMails();
  renderTeam();
  renderAccounts();
}

// --- live updates (Server-Sent Events) ----------------------------------------------------------

function onEvent(event) {
  const user = event.user_id !== undefined ? userById(event.user_id) : null;
  switch (event.type) {
    case "message": {
      if (!user || user.messages.some((m) => m.message_id === event.message.message_id)) return;
      user.messages.push(event.message);
      if (user.id === state.current) {
        appendMessage(event.message);
      } else if (event.message.from_bot) {
        state.unread.add(user.id);
        renderPeople();
      }
      return;
    }
    case "edit": {
      if (!user) return;
      const index = user.messages.findIndex((m) => m.message_id === event.message.message_id);
      if (index < 0) return;
      user.messages[index] = event.message;
      if (user.id === state.current) {
        const atBottom = nearBottom();
        const old = $("chat-log").querySelector(`[data-message-id="${event.message.message_id}"]`);
        if (old) {
          const node = messageNode(event.message);
          if (state.anchor === old) state.anchor = node;
          const focused = old.contains(document.activeElement) ? document.activeElement : null;
          old.replaceWith(node);
          if (focused) keepFocus(node, focused.dataset.callback ?? null);
        }
        if (atBottom) scrollChat();
      }
      return;
    }
    case "delete": {
      if (!user) return;
      user.messages = user.messages.filter((m) => m.message_id !== event.message_id);
      if (user.id === state.current) {
        const old = $("chat-log").querySelector(`[data-message-id="${event.message_id}"]`);
        if (old) old.remove();
        $("empty-chat").hidden = user.messages.length > 0;
      }
      return;
    }
    case "commands":
      state.commands = event.commands;
      renderCommands();
      return;
    case "callback_answer":
      if (user && user.id === state.current && event.text) notice(event.text);
      return;
    case "mail":
      if (state.mails.some((m) => m.id === event.mail.id)) return;
      state.mails.push(event.mail);
      state.unreadMail = state.tab !== "mail" && !(WIDE.matches && state.side === "mail");
      renderMails();
      notice("📨 Nouvel e-mail : " + (event.mail.subject || "(sans objet)"));
      return;
    case "reset":
      for (const u of state.users) u.messages = [];
      state.mails = [];
      state.openMail = null;
      state.unreadMail = false;
      if (state.team) state.team.topics = [];
      state.unreadTeam = false;
      renderChat();
      renderMails();
      renderTeam();
      return;
    case "team":
      loadTeam().catch(() => {});
      return;
    case "hello":
    case "ready":
    case "user":
      loadState().catch(() => {});
      return;
    default:
  }
}

function connectEvents() {
  const source = new EventSource(API + "/events");
  source.onmessage = (message) => {
    $("connection").textContent = "";
    try { onEvent(JSON.parse(message.data)); } catch (error) { console.error(error); }
  };
  source.onerror = () => { $("connection").textContent = "Connexion au bac à sable perdue, nouvel essai…"; };
}

// --- wiring --------------------------------------------------------------------------------

function wire() {
  $("composer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("message-input");
    const text = input.value;
    if (!text.trim()) { input.focus(); return; }
    try {
      await sendText(text);
      input.value = "";
    } catch { /* the notice says why */ }
    input.focus();
  });
  $("message-input").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("menu-button").addEventListener("click", () => {
    if ($("commands-menu").hidden) openMenu(); else closeMenu();
  });
  $("commands-menu").addEventListener("keydown", (event) => {
    const items = [...$("commands-menu").querySelectorAll("button")];
    const at = items.indexOf(document.activeElement);
    if (event.key === "Escape") { event.preventDefault(); closeMenu(true); }
    else if (event.key === "ArrowDown") { event.preventDefault(); items[(at + 1) % items.length].focus(); }
    else if (event.key === "ArrowUp") { event.preventDefault(); items[(at - 1 + items.length) % items.length].focus(); }
  });
  document.addEventListener("click", (event) => {
    if (!event.target.closest(".menu-wrap")) closeMenu();
  });
  $("chat-log").addEventListener("click", chatLinkClick);
  $("mail-text").addEventListener("click", mailLinkClick);
  for (const tab of document.querySelectorAll("[role=tab]")) {
    tab.addEventListener("click", () => showTab(tab.dataset.tab));
  }
  document.querySelector("[role=tablist]").addEventListener("keydown", tabKeys);
  document.querySelector(".skip-link").addEventListener("click", (event) => {
    event.preventDefault();
    showTab("chat");
    $("message-input").focus();
  });
  WIDE.addEventListener("change", renderTabs);
  $("person-select").addEventListener("change", (event) => selectUser(Number(event.target.value)));
  $("show-text").addEventListener("click", () => { state.mailMode = "text"; renderMailView(); });
  $("show-html").addEventListener("click", () => { state.mailMode = "html"; renderMailView(); });
  // The question is asked right under the button (in view), the answer in the notice.
  $("reset-button").addEventListener("click", () => {
    $("reset-confirm").hidden = false;
    $("reset-confirm").scrollIntoView({ block: "nearest" });
    $("reset-yes").focus({ preventScroll: true });
  });
  $("reset-no").addEventListener("click", () => {
    $("reset-confirm").hidden = true;
    $("reset-button").focus();
  });
  $("reset-yes").addEventListener("click", async () => {
    const button = $("reset-button");
    $("reset-confirm").hidden = true;
    button.disabled = true;
    button.textContent = "Réinitialisation…";
    try {
      const answer = await api("/reset", {});
      state.unread.clear();
      await loadState();
      notice(answer.message);
    } finally {
      button.disabled = false;
      button.textContent = "Réinitialiser le bac à sable";
      button.focus();
    }
  });
  $("new-user-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("new-user-name");
    if (!input.value.trim()) { input.focus(); return; }
    const user = await api("/users", { first_name: input.value });
    input.value = "";
    await loadState();
    selectUser(user.id);
    showTab("chat");
  });
  $("team-composer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("team-input");
    if (!input.value.trim()) { input.focus(); return; }
    try {
      await answerAsTeam(input.value);
      input.value = "";
    } catch { /* the notice says why */ }
    input.focus();
  });
  $("team-input").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("team-composer").requestSubmit();
    }
  });
  wireMailFrame();
}

wire();
loadState().catch(() => { $("connection").textContent = "Le bac à sable ne répond pas."; });
connectEvents();
