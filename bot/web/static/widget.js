/* The ENT assistant's loader: one <script src=".../web/widget.js" defer> tag adds a button;
   pressing it opens the panel, an iframe of the assistant's own origin (its CSP, its storage).
   Nothing is fetched before the button is pressed. Styles are set through the CSSOM (never a
   style attribute or an inline sheet), so the ENT page's own CSP need not allow inline styles. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.entAssistantLoaded) {
    return;
  }
  window.entAssistantLoaded = true;
  var TEXT = {
    open: "{{OPEN_BUTTON}}",
    title: "{{PANEL_TITLE}}",
    close: "{{CLOSE_BUTTON}}"
  };
  var base = new URL(".", script.src);
  var blue = "#1a4fa0";

  function css(element, rules) {
    Object.keys(rules).forEach(function (name) {
      element.style.setProperty(name, rules[name]);
    });
    return element;
  }

  var button = document.createElement("button");
  button.type = "button";
  button.className = "ent-assistant-open";
  button.textContent = TEXT.open;
  button.setAttribute("aria-haspopup", "dialog");
  button.setAttribute("aria-expanded", "false");
  css(button, {
    "font": "inherit", "font-size": "1rem", "font-weight": "bold", "color": "#fff",
    "background": blue, "border": "2px solid " + blue, "border-radius": "0.5rem",
    "padding": "0.75rem 1rem", "cursor": "pointer", "min-height": "44px"
  });
  function focusRing(element) {
    element.addEventListener("focus", function () {
      css(element, { "outline": "3px solid #ffbf47", "outline-offset": "2px" });
    });
    element.addEventListener("blur", function () {
      element.style.removeProperty("outline");
    });
  }
  focusRing(button);
  script.parentNode.insertBefore(button, script);

  var dialog = null;
  var frame = null;

  function phone() {
    return window.innerWidth < 600;
  }

  function place() {
    if (!dialog) {
      return;
    }
    var view = window.visualViewport;
    if (phone()) {
      css(dialog, {
        "left": "0", "right": "0", "bottom": "auto", "width": "100%",
        "top": (view ? view.offsetTop : 0) + "px",
        "height": (view ? view.height : window.innerHeight) + "px", "border-radius": "0"
      });
    } else {
      css(dialog, {
        "left": "auto", "right": "1rem", "bottom": "1rem", "top": "auto", "width": "26rem",
        "height": "min(42rem, calc(100vh - 2rem))", "border-radius": "0.75rem"
      });
    }
  }

  function close() {
    if (!dialog) {
      return;
    }
    dialog.hidden = true;
    css(dialog, { "display": "none" });
    button.setAttribute("aria-expanded", "false");
    button.focus();
  }

  function open() {
    if (!dialog) {
      dialog = document.createElement("div");
      dialog.setAttribute("role", "dialog");
      dialog.setAttribute("aria-label", TEXT.title);
      dialog.className = "ent-assistant-dialog";
      css(dialog, {
        "position": "fixed", "z-index": "2147483000", "background": "#fff",
        "box-shadow": "0 0.5rem 2rem rgba(0,0,0,0.35)", "display": "flex",
        "flex-direction": "column", "overflow": "hidden", "border": "1px solid #555"
      });
      var bar = css(document.createElement("div"), {
        "display": "flex", "justify-content": "flex-end", "background": blue, "padding": "0.25rem"
      });
      var shut = document.createElement("button");
      shut.type = "button";
      shut.textContent = "✕ " + TEXT.close;
      css(shut, {
        "font": "inherit", "font-size": "0.95rem", "color": "#fff", "background": "transparent",
        "border": "2px solid #fff", "border-radius": "0.4rem", "padding": "0.4rem 0.6rem",
        "cursor": "pointer", "min-height": "44px"
      });
      focusRing(shut);
      shut.addEventListener("click", close);
      bar.appendChild(shut);
      frame = document.createElement("iframe");
      frame.title = TEXT.title;
      frame.src = new URL("panel", base).href;
      css(frame, { "border": "0", "flex": "1", "width": "100%" });
      dialog.appendChild(bar);
      dialog.appendChild(frame);
      dialog.addEventListener("keydown", function (event) {
        if (event.key === "Escape") {
          close();
        }
      });
      document.body.appendChild(dialog);
      window.addEventListener("resize", place);
      if (window.visualViewport) {
        window.visualViewport.addEventListener("resize", place);
        window.visualViewport.addEventListener("scroll", place);
      }
      window.addEventListener("message", function (event) {
        if (frame && event.source === frame.contentWindow && event.origin === base.origin &&
            event.data && event.data.type === "ent-assistant:close") {
          close();
        }
      });
      frame.addEventListener("load", function () {
        frame.focus();
      });
    }
    dialog.hidden = false;
    css(dialog, { "display": "flex" });
    place();
    button.setAttribute("aria-expanded", "true");
    if (frame) {
      frame.focus();
    }
  }

  button.addEventListener("click", function () {
    if (dialog && !dialog.hidden) {
      close();
    } else {
      open();
    }
  });
})();
