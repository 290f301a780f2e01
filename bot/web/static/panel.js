/* The assistant's panel: shows the conversation's log after the last sequence seen (long
   poll), sends what the person types or presses. Only the conversation id is kept, in this
   origin's sessionStorage; a secret goes from the password field to the request and nowhere
   else (the field is emptied at once, never echoed). */
(function () {
  "use strict";
  var KEY = "ent-assistant-conversation";
  var body = document.body;
  var TEXT = body.dataset;
  var log = document.getElementById("log");
  var statusLine = document.getElementById("status");
  var form = document.getElementById("composer");
  var message = document.getElementById("message");
  var secret = document.getElementById("secret");
  var toggle = document.getElementById("toggle");
  var textField = document.getElementById("text-field");
  var secretField = document.getElementById("secret-field");
  var conversation = null;
  var after = 0;
  var mode = "text";
  var polling = 0;

  try {
    conversation = window.sessionStorage.getItem(KEY);
  } catch (error) {
    conversation = null;
  }

  function remember(id) {
    conversation = id;
    try {
      window.sessionStorage.setItem(KEY, id);
    } catch (error) {
      /* storage refused: the conversation lasts as long as the page */
    }
  }

  function headers() {
    var result = { "Content-Type": "application/json" };
    if (conversation) {
      result["X-Conversation"] = conversation;
    }
    return result;
  }

  function say(text) {
    statusLine.textContent = text || "";
  }

  function adopt(data) {
    if (data.fresh && data.conversation) {
      remember(data.conversation);
      log.textContent = "";
      after = 0;
    }
  }

  function setMode(input, autocomplete) {
    var hadFocus = document.activeElement === message || document.activeElement === secret;
    mode = input === "secret" ? "secret" : "text";
    secretField.hidden = mode !== "secret";
    textField.hidden = mode === "secret";
    var hint = autocomplete && autocomplete !== "off" ? autocomplete : "off";
    if (mode === "secret") {
      secret.setAttribute("autocomplete", hint === "off" ? "current-password" : hint);
      secret.type = "password";
      toggle.setAttribute("aria-pressed", "false");
      toggle.textContent = TEXT.showShort;
      toggle.setAttribute("aria-label", TEXT.show);
    } else {
      message.setAttribute("autocomplete", hint);
    }
    if (hadFocus) {
      (mode === "secret" ? secret : message).focus();
    }
  }

  function dropChoices(keepNonce) {
    var groups = log.querySelectorAll(".choices");
    var focused = false;
    Array.prototype.forEach.call(groups, function (group) {
      if (keepNonce && group.dataset.nonce === keepNonce) {
        return;
      }
      if (group.contains(document.activeElement)) {
        focused = true;
      }
      group.parentNode.removeChild(group);
    });
    return focused;
  }

  function choices(entry) {
    var group = document.createElement("div");
    group.className = "choices";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", TEXT.choices);
    group.dataset.nonce = entry.nonce || "";
    entry.rows.forEach(function (row) {
      var line = document.createElement("div");
      line.className = "choice-row";
      row.forEach(function (choice) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "choice";
        button.textContent = choice.label;
        button.addEventListener("click", function () {
          if (group.dataset.used) {
            return; /* one press per set of choices: a double click sends once */
          }
          group.dataset.used = "1";
          send({ kind: "choice", action: choice.action, nonce: entry.nonce });
        });
        line.appendChild(button);
      });
      group.appendChild(line);
    });
    return group;
  }

  function show(entry) {
    var person = entry.from === "person";
    var item = document.createElement("div");
    item.className = "msg " + (person ? "msg-person" : "msg-bot");
    var who = document.createElement("span");
    who.className = "visually-hidden";
    who.textContent = (person ? TEXT.you : TEXT.bot) + " : ";
    var text = document.createElement("p");
    text.appendChild(who);
    text.appendChild(document.createTextNode(entry.text || ""));
    item.appendChild(text);
    var focusChoices = false;
    if (!person) {
      var typing = document.activeElement === message || document.activeElement === secret;
      if (entry.rows && entry.rows.length) {
        focusChoices = dropChoices(entry.nonce);
        item.appendChild(choices(entry));
        /* a step answered by buttons only: the keyboard goes to its first button */
        focusChoices = focusChoices || (typing && entry.input === "choice");
      }
      setMode(entry.input, entry.autocomplete);
    }
    log.appendChild(item);
    /* the newest message from its start: to the bottom if it fits, else to its top */
    var start = item.offsetTop; /* the log is positioned: relative to it */
    log.scrollTop = item.offsetHeight > log.clientHeight ? start : log.scrollHeight;
    if (focusChoices) {
      var first = item.querySelector(".choice");
      if (first) {
        first.focus();
      }
    }
  }

  function render(messages) {
    messages.forEach(function (entry) {
      if (entry.seq <= after) {
        return;
      }
      after = entry.seq;
      show(entry);
    });
  }

  function request(path, options) {
    options.cache = "no-store";
    options.credentials = "omit";
    return fetch(path, options).then(function (response) {
      return response.json().then(function (data) {
        return { ok: response.ok, data: data };
      });
    });
  }

  var pending = null;

  function poll() {
    var mine = ++polling;
    if (pending) {
      pending.abort();
    }
    var controller = window.AbortController ? new window.AbortController() : null;
    pending = controller;
    request("api/messages?wait=1&after=" + after, {
      headers: headers(),
      signal: controller ? controller.signal : undefined
    })
      .then(function (answer) {
        if (mine !== polling) {
          return;
        }
        if (!answer.ok) {
          say(answer.data.message || TEXT.offline);
          window.setTimeout(poll, 3000);
          return;
        }
        say("");
        adopt(answer.data);
        render(answer.data.messages || []);
        poll();
      })
      .catch(function () {
        if (mine !== polling) {
          return;
        }
        say(TEXT.offline);
        window.setTimeout(poll, 3000);
      });
  }

  function send(payload) {
    say("");
    request("api/input", {
      method: "POST",
      headers: headers(),
      body: JSON.stringify(payload)
    }).then(function (answer) {
      if (!answer.ok) {
        say(answer.data.message);
        release();
        return;
      }
      if (answer.data.fresh) {
        adopt(answer.data);
        poll();
      }
    }).catch(function () {
      say(TEXT.offline);
      release();
    });
  }

  function release() {
    /* a refused or lost press: the choices can be pressed again */
    Array.prototype.forEach.call(log.querySelectorAll(".choices"), function (group) {
      delete group.dataset.used;
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (mode === "secret") {
      var value = secret.value;
      secret.value = "";
      secret.type = "password";
      toggle.setAttribute("aria-pressed", "false");
      toggle.textContent = TEXT.showShort;
      toggle.setAttribute("aria-label", TEXT.show);
      if (value) {
        send({ kind: "secret", text: value });
      }
      value = null;
      return;
    }
    var text = message.value.trim();
    message.value = "";
    if (text) {
      send({ kind: "text", text: text });
    }
  });

  toggle.addEventListener("click", function () {
    var shown = secret.type === "text";
    secret.type = shown ? "password" : "text";
    toggle.setAttribute("aria-pressed", shown ? "false" : "true");
    toggle.textContent = shown ? TEXT.showShort : TEXT.hideShort;
    toggle.setAttribute("aria-label", shown ? TEXT.show : TEXT.hide);
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && window.parent !== window) {
      window.parent.postMessage({ type: "ent-assistant:close" }, "*");
    }
  });

  /* A phone that sleeps or loses its network: stop waiting at once, read again on return. */
  window.addEventListener("offline", function () {
    polling++;
    if (pending) {
      pending.abort();
      pending = null;
    }
    say(TEXT.offline);
  });
  window.addEventListener("online", function () {
    if (conversation) {
      poll();
    }
  });

  say(TEXT.connecting);
  if (conversation) {
    poll();
  } else {
    request("api/conversations", { method: "POST", headers: headers(), body: "{}" })
      .then(function (answer) {
        if (!answer.ok) {
          say(answer.data.message);
          return;
        }
        say("");
        adopt(answer.data);
        render(answer.data.messages || []);
        poll();
      })
      .catch(function () {
        say(TEXT.offline);
      });
  }
  message.focus();
})();
