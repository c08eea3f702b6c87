/*
 * Dialoga — the chat widget of the Sportello Conciliazione lavoro-famiglia.
 *
 * Embed with one tag (the desk serves this file):
 *   <script src="https://desk.example/widget.js" data-lang="it" defer></script>
 *
 * Plain JavaScript, no framework, nothing loaded from elsewhere. The widget lives in a
 * Shadow DOM so the host page's styles neither break it nor get broken by it. It talks
 * only to the desk that served it (/widget/api/...); the desk forwards to the assistant.
 * Every piece of text (the user's, the assistant's, an operator's) is inserted as text
 * (textContent / createTextNode), never as HTML.
 */
(function () {
  "use strict";

  if (window.__dialogaWidgetLoaded) return;
  window.__dialogaWidgetLoaded = true;

  var script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  if (!script) return;
  var DESK = new URL(script.src, window.location.href).origin;
  var PAGE_LANGUAGE = script.getAttribute("data-lang") === "en" ? "en" : "it";
  var STORE_KEY = "dialoga-widget:v1:" + DESK;
  var MAX_HISTORY = 200;
  var DEFAULT_POLL_SECONDS = 3;

  var TEXTS = {
    it: {
      launcher: "Dialoga con noi",
      title: "Sportello Conciliazione",
      subtitle: "Dialoga con noi — lavoro e famiglia",
      close: "Chiudi la chat",
      restart: "Nuova conversazione",
      restartDone: "Conversazione cancellata da questo browser.",
      inputLabel: "Scrivi il tuo messaggio",
      placeholder: "Scrivi la tua domanda…",
      send: "Invia",
      typing: "L'assistente sta scrivendo…",
      welcome: "Ciao! Sono l'assistente virtuale dello Sportello Conciliazione lavoro-famiglia. " +
        "Chiedimi di smart working e orari, congedi e permessi, welfare aziendale, fondi artigiani " +
        "(ELBA, San.Arti., FSBA), bonus e servizi per le famiglie. Se non so rispondere, passo la " +
        "domanda a un operatore.",
      you: "Tu",
      assistant: "Assistente",
      operator: "Operatore dello sportello",
      notice: "Avviso",
      source: "Fonte",
      verified: "Verificato il",
      helpful: "Risposta utile",
      notHelpful: "Risposta non utile",
      choices: "Risposte suggerite",
      unread: function (n) { return n === 1 ? "1 nuovo messaggio" : n + " nuovi messaggi"; },
      offline: "Non riesco a contattare lo sportello. Controlla la connessione e riprova.",
      conversation: "Conversazione",
      opensNewWindow: "(si apre in una nuova finestra)",
      emailOffer: "Preferisci ricevere gli avvisi per e-mail invece che qui?",
      emailLabel: "Il tuo indirizzo e-mail",
      emailConsent: "Acconsento a ricevere per e-mail gli avvisi degli argomenti che seguo (al massimo uno al giorno). " +
        "L'indirizzo serve solo a questo e viene cancellato quando annullo l'iscrizione.",
      emailSubmit: "Ricevi per e-mail"
    },
    en: {
      launcher: "Chat with us",
      title: "Work-life balance desk",
      subtitle: "Dialoga con noi — work and family",
      close: "Close the chat",
      restart: "New conversation",
      restartDone: "Conversation deleted from this browser.",
      inputLabel: "Write your message",
      placeholder: "Write your question…",
      send: "Send",
      typing: "The assistant is typing…",
      welcome: "Hello! I am the virtual assistant of the work-life balance desk (Sportello Conciliazione). " +
        "Ask me about smart working and hours, leave and permits, corporate welfare, artisan funds " +
        "(ELBA, San.Arti., FSBA), family benefits and services. If I can't answer, I pass your " +
        "question to an operator.",
      you: "You",
      assistant: "Assistant",
      operator: "Desk operator",
      notice: "Notice",
      source: "Source",
      verified: "Last verified on",
      helpful: "Helpful answer",
      notHelpful: "Not a helpful answer",
      choices: "Suggested replies",
      unread: function (n) { return n === 1 ? "1 new message" : n + " new messages"; },
      offline: "I can't reach the desk. Please check your connection and try again.",
      conversation: "Conversation",
      opensNewWindow: "(opens in a new window)",
      emailOffer: "Would you rather get the notices by e-mail instead of here?",
      emailLabel: "Your e-mail address",
      emailConsent: "I agree to receive by e-mail the notices on the topics I follow (at most one a day). " +
        "The address is used only for this and is deleted when I unsubscribe.",
      emailSubmit: "Get them by e-mail"
    }
  };
  var MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December"];

  var ICONS = {
    chat: "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z",
    up: "M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 7.59 7.59C7.22 " +
      "7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z",
    down: "M15 3H6c-.83 0-1.54.5-1.84 1.22l-3.02 7.05c-.09.23-.14.47-.14.73v2c0 1.1.9 2 2 2h6.31l-.95 4.57-.03.32c0 " +
      ".41.17.79.44 1.06L9.83 23l6.59-6.59c.36-.36.58-.86.58-1.41V5c0-1.1-.9-2-2-2zm4 0v12h4V3h-4z"
  };

  var STYLE = [
    ":host { all: initial; }",
    "[hidden] { display: none !important; }",
    "* { box-sizing: border-box; }",
    ".root { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif; font-size: 15px;",
    "  line-height: 1.45; color: #1b1b1b; }",
    "button, textarea, input { font: inherit; }",
    // Two rings, so the focus shows on the white panel (dark ring) and on the blue header (light ring).
    ":focus-visible { outline: 3px solid #1b1b1b; outline-offset: 2px; box-shadow: 0 0 0 2px #f2a900; }",
    ".header :focus-visible { outline-color: #fff; }",
    ".launcher { position: fixed; right: 16px; bottom: 16px; z-index: 2147483000; display: inline-flex;",
    "  align-items: center; gap: 8px; min-height: 48px; padding: 10px 18px; border: 0; border-radius: 24px;",
    "  background: #0b4f8a; color: #fff; font-weight: 600; cursor: pointer; box-shadow: 0 2px 10px rgba(0,0,0,.3); }",
    ".launcher:hover { background: #083d6b; }",
    ".badge { min-width: 22px; padding: 1px 7px; border-radius: 11px; background: #b3261e; color: #fff;",
    "  font-size: 13px; font-weight: 700; text-align: center; }",
    ".panel { position: fixed; right: 16px; bottom: 16px; z-index: 2147483001; display: flex; flex-direction: column;",
    "  width: min(390px, calc(100vw - 16px)); height: min(620px, calc(100vh - 32px)); background: #fff;",
    "  border: 1px solid #8a8a8a; border-radius: 12px; box-shadow: 0 6px 30px rgba(0,0,0,.3); overflow: hidden; }",
    "@media (max-width: 480px) { .panel { right: 8px; left: 8px; bottom: 8px; width: auto; height: calc(100vh - 16px); }",
    "  .launcher { right: 8px; bottom: 8px; } }",
    ".header { display: flex; align-items: flex-start; gap: 8px; padding: 10px 12px; background: #0b4f8a; color: #fff; }",
    ".heading { flex: 1; min-width: 0; }",
    ".title { margin: 0; font-size: 16px; font-weight: 700; }",
    ".subtitle, .hours { margin: 2px 0 0; font-size: 13px; }",
    ".hours.closed { font-weight: 600; }",
    ".icon-button { flex: none; width: 40px; height: 40px; border: 1px solid rgba(255,255,255,.6); border-radius: 8px;",
    "  background: transparent; color: #fff; font-size: 18px; line-height: 1; cursor: pointer; }",
    ".icon-button:hover { background: rgba(255,255,255,.15); }",
    ".log { flex: 1; margin: 0; padding: 12px; list-style: none; overflow-y: auto; background: #f7f7f8; }",
    ".message { margin: 0 0 12px; display: flex; flex-direction: column; align-items: flex-start; }",
    ".message.user { align-items: flex-end; }",
    ".who { font-size: 12px; color: #4a4a4a; margin: 0 4px 2px; }",
    ".bubble { max-width: 92%; padding: 8px 12px; border-radius: 12px; white-space: pre-wrap; overflow-wrap: anywhere;",
    "  background: #fff; border: 1px solid #d0d0d4; }",
    ".user .bubble { background: #0b4f8a; color: #fff; border-color: #0b4f8a; }",
    ".operator .bubble { background: #fff6e5; border: 2px solid #9a6200; }",
    ".operator .who { color: #6b4400; font-weight: 700; }",
    ".notice .bubble { background: #eef3f8; border: 1px dashed #0b4f8a; font-size: 14px; }",
    ".bubble a { color: #0b4f8a; text-decoration: underline; }",
    ".user .bubble a { color: #fff; }",
    ".meta { max-width: 92%; margin: 4px 4px 0; font-size: 12.5px; color: #3d3d3d; }",
    ".meta a { color: #0b4f8a; }",
    ".choices { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 6px; max-width: 100%; }",
    ".choices.clarify { flex-direction: column; align-items: flex-start; }",
    ".choice { min-height: 36px; padding: 6px 12px; border: 1.5px solid #0b4f8a; border-radius: 18px;",
    "  background: #fff; color: #0b4f8a; cursor: pointer; text-align: left; }",
    ".choice:hover:not(:disabled) { background: #e6eef6; }",
    ".choice.thumb { display: inline-flex; align-items: center; justify-content: center; min-width: 44px; padding: 4px 10px; }",
    ".choice:disabled { cursor: default; border-color: #b8b8b8; color: #6a6a6a; background: #f0f0f0; }",
    ".choice[aria-pressed='true'] { border-color: #0b4f8a; background: #0b4f8a; color: #fff; }",
    ".email-form { max-width: 92%; margin-top: 6px; padding: 8px 10px; border: 1px solid #d0d0d4; border-radius: 10px;",
    "  background: #fff; font-size: 14px; }",
    ".email-form p { margin: 0 0 6px; }",
    ".email-form label { display: block; margin: 4px 0; }",
    ".email-form input[type=email] { width: 100%; min-height: 38px; padding: 6px 8px; border: 1.5px solid #6e6e73;",
    "  border-radius: 6px; }",
    ".email-form .consent { display: flex; gap: 6px; align-items: flex-start; }",
    ".email-form .error { color: #b3261e; font-weight: 600; }",
    ".typing .bubble { display: inline-flex; gap: 4px; align-items: center; }",
    ".dot { width: 7px; height: 7px; border-radius: 50%; background: #555; animation: blink 1.2s infinite both; }",
    ".dot:nth-child(2) { animation-delay: .2s; } .dot:nth-child(3) { animation-delay: .4s; }",
    "@keyframes blink { 0%, 80%, 100% { opacity: .25; } 40% { opacity: 1; } }",
    "@media (prefers-reduced-motion: reduce) { .dot { animation: none; } }",
    ".composer { display: flex; gap: 8px; padding: 10px; border-top: 1px solid #c8c8cc; background: #fff; }",
    ".composer textarea { flex: 1; min-height: 44px; max-height: 120px; resize: none; padding: 10px;",
    "  border: 1.5px solid #6e6e73; border-radius: 8px; color: #1b1b1b; background: #fff; }",
    ".send { min-width: 64px; min-height: 44px; padding: 0 14px; border: 0; border-radius: 8px; background: #0b4f8a;",
    "  color: #fff; font-weight: 600; cursor: pointer; }",
    ".send:disabled { background: #6e6e73; cursor: wait; }",
    ".sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;",
    "  clip: rect(0,0,0,0); white-space: nowrap; border: 0; }"
  ].join("\n");

  // State, kept in localStorage so the conversation survives navigation and reloads.

  function freshState() {
    return { session: null, token: null, lastId: 0, seq: 0, language: PAGE_LANGUAGE, open: false,
      unread: 0, pollSeconds: DEFAULT_POLL_SECONDS, hours: null, history: [] };
  }

  var memoryStore = null; // when the browser refuses storage (private modes, blocked cookies)

  function load() {
    try {
      var raw = window.localStorage.getItem(STORE_KEY);
      var parsed = raw ? JSON.parse(raw) : null;
      if (parsed && Array.isArray(parsed.history)) return Object.assign(freshState(), parsed);
    } catch (error) {
      if (memoryStore) return JSON.parse(memoryStore);
    }
    return freshState();
  }

  function save() {
    state.history = state.history.slice(-MAX_HISTORY);
    var raw = JSON.stringify(state);
    try {
      window.localStorage.setItem(STORE_KEY, raw);
    } catch (error) {
      memoryStore = raw;
    }
  }

  var state = load();

  function t(key) {
    return (TEXTS[state.language] || TEXTS.it)[key];
  }

  // DOM helpers: text goes in as text nodes, never as markup.

  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      var value = attributes[name];
      if (value === null || value === undefined || value === false) return;
      if (name === "text") node.textContent = value;
      else if (name === "className") node.className = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    });
    (children || []).forEach(function (child) {
      if (child) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  var WEB_ADDRESS = /(https?:\/\/[^\s<>"]+)/g;

  /* Text with its web addresses as links: the address is checked and set as an attribute,
     the visible part is a text node. */
  function appendText(container, text) {
    String(text).split(WEB_ADDRESS).forEach(function (part, index) {
      if (index % 2 === 0) {
        if (part) container.appendChild(document.createTextNode(part));
        return;
      }
      var trailing = (part.match(/[.,;:!?)»]+$/) || [""])[0];
      var address = trailing ? part.slice(0, -trailing.length) : part;
      container.appendChild(link(address, address));
      if (trailing) container.appendChild(document.createTextNode(trailing));
    });
  }

  function link(address, label) {
    var anchor = el("a", { href: address, target: "_blank", rel: "noopener noreferrer" }, [label]);
    anchor.appendChild(el("span", { className: "sr-only", text: " " + t("opensNewWindow") }));
    return anchor;
  }

  function formatDate(iso) {
    var match = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso || "");
    if (!match) return iso || "";
    if (state.language === "en") return Number(match[3]) + " " + MONTHS_EN[Number(match[2]) - 1] + " " + match[1];
    return match[3] + "/" + match[2] + "/" + match[1];
  }

  // The widget's elements

  var host = el("div", { id: "dialoga-widget" });
  var shadow = host.attachShadow({ mode: "open" });
  var root = el("div", { className: "root" });
  var launcherLabel = el("span");
  var badge = el("span", { className: "badge", hidden: true, "aria-hidden": "true" });
  var launcher = el("button", { type: "button", className: "launcher", "aria-expanded": "false",
    "aria-controls": "dialoga-panel" }, [icon("chat", 22), launcherLabel, badge]);
  var titleNode = el("h2", { className: "title", id: "dialoga-title" });
  var subtitleNode = el("p", { className: "subtitle" });
  var hoursNode = el("p", { className: "hours", hidden: true });
  var restartButton = el("button", { type: "button", className: "icon-button" }, ["↺"]);
  var closeButton = el("button", { type: "button", className: "icon-button" }, ["✕"]);
  var log = el("ol", { className: "log", id: "dialoga-log" });
  var live = el("div", { className: "sr-only", role: "status", "aria-live": "polite", "aria-atomic": "true" });
  var inputLabel = el("label", { className: "sr-only", for: "dialoga-input" });
  var input = el("textarea", { id: "dialoga-input", rows: "1", maxlength: "2000", autocomplete: "off" });
  var sendButton = el("button", { type: "submit", className: "send" });
  var composer = el("form", { className: "composer" }, [inputLabel, input, sendButton]);
  var panel = el("section", { className: "panel", id: "dialoga-panel", role: "dialog", "aria-modal": "false",
    "aria-labelledby": "dialoga-title", hidden: true }, [
    el("div", { className: "header" }, [
      el("div", { className: "heading" }, [titleNode, subtitleNode, hoursNode]), restartButton, closeButton]),
    log, composer]);
  root.appendChild(launcher);
  root.appendChild(panel);
  root.appendChild(live);
  applyStyle(shadow);
  shadow.appendChild(root);

  /* A constructed stylesheet, not a <style> element: host pages whose Content-Security-Policy
     forbids inline styles still show the widget as designed. Browsers without constructable
     stylesheets (before Safari 16.4, Firefox 101) get a <style> element instead. */
  function applyStyle(target) {
    if (window.CSSStyleSheet && "adoptedStyleSheets" in target && "replaceSync" in CSSStyleSheet.prototype) {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(STYLE);
      target.adoptedStyleSheets = [sheet];
      return;
    }
    var element = document.createElement("style");
    element.textContent = STYLE;
    target.appendChild(element);
  }

  /* Icons are drawn, not typed: emoji fonts are missing on some systems. */
  function icon(name, size) {
    var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", String(size));
    svg.setAttribute("height", String(size));
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute("d", ICONS[name]);
    svg.appendChild(path);
    return svg;
  }

  function applyLanguage() {
    root.setAttribute("lang", state.language);
    launcherLabel.textContent = t("launcher");
    titleNode.textContent = t("title");
    subtitleNode.textContent = t("subtitle");
    restartButton.setAttribute("aria-label", t("restart"));
    restartButton.setAttribute("title", t("restart"));
    closeButton.setAttribute("aria-label", t("close"));
    closeButton.setAttribute("title", t("close"));
    log.setAttribute("aria-label", t("conversation"));
    inputLabel.textContent = t("inputLabel");
    input.setAttribute("placeholder", t("placeholder"));
    sendButton.textContent = t("send");
    updateBadge();
  }

  function setLanguage(language) {
    if ((language === "it" || language === "en") && language !== state.language) {
      state.language = language;
      applyLanguage();
      if (!panel.hidden) refreshHours();
    }
  }

  // Rendering the conversation

  function whoLabel(role) {
    return { user: t("you"), bot: t("assistant"), operator: t("operator"), notice: t("notice") }[role] || "";
  }

  function renderItem(item) {
    var bubble = el("div", { className: "bubble" });
    appendText(bubble, item.text);
    var node = el("li", { className: "message " + item.role, "data-id": item.id }, [
      el("span", { className: "who", text: whoLabel(item.role) }), bubble]);
    if (item.source) node.appendChild(renderMeta(item));
    if (item.buttons && item.buttons.length) node.appendChild(renderChoices(item));
    if (item.subscription && item.subscription.status === "active" && !item.emailGiven) {
      node.appendChild(renderEmailForm(item));
    }
    return node;
  }

  /* Under "you will find the notice here": the notices by e-mail instead, with explicit consent.
     The address goes to the desk only; it is never kept in this browser. */
  function renderEmailForm(item) {
    var formId = "dialoga-email-" + item.id;
    var address = el("input", { type: "email", id: formId, name: "email", required: true, maxlength: 200,
      autocomplete: "email" });
    var consent = el("input", { type: "checkbox", name: "consent", required: true, id: formId + "-consent" });
    var error = el("p", { className: "error", role: "alert", hidden: true });
    var submit = el("button", { type: "submit", className: "choice", text: t("emailSubmit") });
    var form = el("form", { className: "email-form", novalidate: true }, [
      el("p", { text: t("emailOffer") }),
      el("label", { "for": formId, text: t("emailLabel") }), address,
      el("label", { className: "consent", "for": formId + "-consent" }, [consent, t("emailConsent")]),
      error, submit
    ]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      submit.disabled = true;
      api("/widget/api/subscriptions/email", { method: "POST", authorised: true,
        body: { session: state.session, email: address.value, consent: consent.checked, lang: state.language } })
        .then(function (answer) {
          if (!answer.ok) {
            error.textContent = answer.data.message || t("offline");
            error.hidden = false;
            submit.disabled = false;
            return;
          }
          item.emailGiven = true;
          save();
          form.remove();
          addItem({ role: "notice", text: answer.data.message });
        }).catch(function () {
          error.textContent = t("offline");
          error.hidden = false;
          submit.disabled = false;
        });
    });
    return form;
  }

  function renderMeta(item) {
    var meta = el("p", { className: "meta" }, [t("source") + ": "]);
    meta.appendChild(item.source_url ? link(item.source_url, item.source) : document.createTextNode(item.source));
    if (item.verified_on) meta.appendChild(document.createTextNode(" · " + t("verified") + " " + formatDate(item.verified_on)));
    return meta;
  }

  function renderChoices(item) {
    // A clarification ("which of these topics?") lists its options one per line: titles are long.
    var group = el("div", { className: item.clarify ? "choices clarify" : "choices", role: "group", "aria-label": t("choices") });
    item.buttons.forEach(function (button) {
      var label = button.feedback === "helpful" ? t("helpful") : button.feedback === "not_helpful" ? t("notHelpful") : null;
      var node = el("button", {
        type: "button",
        className: label ? "choice thumb" : "choice",
        "aria-label": label,
        title: label,
        "aria-pressed": label ? String(item.chosen === button.payload) : null,
        disabled: Boolean(item.used)
      }, [label ? icon(button.feedback === "helpful" ? "up" : "down", 20) : button.title]);
      node.addEventListener("click", function () { choose(item, button); });
      group.appendChild(node);
    });
    return group;
  }

  function renderAll() {
    var nodes = [renderItem({ id: "welcome", role: "bot", text: t("welcome") })];
    state.history.forEach(function (item) { nodes.push(renderItem(item)); });
    log.replaceChildren.apply(log, nodes);
    scrollToEnd();
  }

  function scrollToEnd() {
    log.scrollTop = log.scrollHeight;
  }

  function announce(item) {
    live.textContent = "";
    var text = whoLabel(item.role) + ": " + String(item.text).slice(0, 300);
    window.setTimeout(function () { live.textContent = text; }, 50);
  }

  function addItem(item, options) {
    state.seq += 1;
    item.id = item.id || "m" + state.seq;
    state.history.push(item);
    save();
    log.appendChild(renderItem(item));
    scrollToEnd();
    if (!(options && options.quiet)) announce(item);
    return item;
  }

  /* Buttons of earlier messages stop working once the user has answered. */
  function retireChoices() {
    var changed = false;
    state.history.forEach(function (item) {
      if (item.buttons && item.buttons.length && !item.used) { item.used = true; changed = true; }
    });
    if (changed) {
      Array.prototype.forEach.call(log.querySelectorAll(".choice"), function (node) { node.disabled = true; });
    }
  }

  var typingNode = null;

  function showTyping(visible) {
    if (visible && !typingNode) {
      typingNode = el("li", { className: "message bot typing" }, [
        el("span", { className: "who", text: t("assistant") }),
        el("div", { className: "bubble" }, [
          el("span", { className: "dot", "aria-hidden": "true" }), el("span", { className: "dot", "aria-hidden": "true" }),
          el("span", { className: "dot", "aria-hidden": "true" }), el("span", { className: "sr-only", text: t("typing") })])]);
      log.appendChild(typingNode);
      log.setAttribute("aria-busy", "true");
      scrollToEnd();
    } else if (!visible && typingNode) {
      typingNode.remove();
      typingNode = null;
      log.removeAttribute("aria-busy");
    }
  }

  function updateBadge() {
    var count = state.unread || 0;
    badge.hidden = count === 0 || !panel.hidden;
    badge.textContent = String(count);
    launcher.setAttribute("aria-label", count && panel.hidden ? t("launcher") + " — " + t("unread")(count) : t("launcher"));
  }

  // Talking to the desk

  function api(path, options) {
    options = options || {};
    var headers = { Accept: "application/json" };
    if (options.body) headers["Content-Type"] = "application/json";
    if (options.authorised) headers["X-Widget-Token"] = state.token;
    return window.fetch(DESK + path, {
      method: options.method || "GET", headers: headers, credentials: "omit", mode: "cors",
      body: options.body ? JSON.stringify(options.body) : undefined
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { status: response.status, ok: response.ok, data: data };
      });
    });
  }

  function ensureSession() {
    if (state.session && state.token) return Promise.resolve(true);
    return api("/widget/api/session", { method: "POST", body: { lang: state.language } }).then(function (answer) {
      if (!answer.ok) {
        addItem({ role: "notice", text: answer.data.message || t("offline") });
        return false;
      }
      state.session = answer.data.session;
      state.token = answer.data.token;
      state.lastId = 0;
      state.pollSeconds = answer.data.poll_seconds || DEFAULT_POLL_SECONDS;
      save();
      schedulePoll(state.pollSeconds * 1000);
      return true;
    });
  }

  var busy = false;

  /* The message's idempotency key: the same for the same button of the same message, so that
     a choice sent again (a rating) is recorded once; a new one for typed text. */
  function messageKey(item, index) {
    if (item) return "choice-" + item.id + "-" + index;
    return "text-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }

  function send(payload, shown, key) {
    if (busy || !payload.trim()) return Promise.resolve();
    busy = true;
    sendButton.disabled = true;
    retireChoices();
    addItem({ role: "user", text: shown }, { quiet: true });
    showTyping(true);
    return deliver(payload, true, key || messageKey(null)).catch(function () {
      addItem({ role: "notice", text: t("offline") });
    }).then(function () {
      showTyping(false);
      busy = false;
      sendButton.disabled = false;
    });
  }

  function deliver(payload, retryWithNewSession, key) {
    return ensureSession().then(function (ready) {
      if (!ready) return null;
      return api("/widget/api/messages", { method: "POST", authorised: true,
        body: { session: state.session, text: payload, lang: state.language, message_key: key } }).then(function (answer) {
        if (answer.status === 401 && retryWithNewSession) {
          addItem({ role: "notice", text: answer.data.message || "" });
          state.session = null;
          state.token = null;
          save();
          return deliver(payload, false, messageKey(null));
        }
        if (answer.ok) return showReplies(answer.data.messages || []);
        var messages = answer.data.messages;
        if (messages && messages.length) {
          messages.forEach(function (message) { addItem({ role: "notice", text: message.text }); });
        } else {
          addItem({ role: "notice", text: answer.data.message || t("offline") });
        }
        return null;
      });
    });
  }

  function showReplies(messages) {
    var intakeStarted = false;
    showTyping(false);
    messages.forEach(function (message) {
      if (message.language) setLanguage(message.language);
      addItem({
        role: "bot", text: message.text, buttons: message.buttons || [], source: message.source || null,
        source_url: message.source_url || null, verified_on: message.verified_on || null,
        clarify: message.clarify || null, subscription: message.subscription || null
      });
      if (message.escalation === "intake" && message.asks === "role") intakeStarted = true;
    });
    if (intakeStarted) {
      return fetchHours().then(function (hours) {
        if (hours && !hours.open && hours.intake_notice) addItem({ role: "notice", text: hours.intake_notice });
      });
    }
    return null;
  }

  function choose(item, button) {
    if (busy) return;
    item.chosen = button.payload;
    save();
    send(button.payload, button.title, messageKey(item, (item.buttons || []).indexOf(button))).then(function () {
      var node = log.querySelector('[data-id="' + item.id + '"]');
      if (node) node.replaceWith(renderItem(item));
      input.focus();
    });
  }

  // Office hours

  function fetchHours() {
    return api("/widget/api/hours?lang=" + state.language).then(function (answer) {
      return answer.ok ? answer.data : null;
    }).catch(function () { return null; });
  }

  function refreshHours() {
    showHours(state.hours);
    fetchHours().then(function (hours) {
      if (!hours) return;
      state.hours = { status: hours.status, open: hours.open };
      save();
      showHours(state.hours);
    });
  }

  function showHours(hours) {
    if (!hours) return;
    var atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    hoursNode.textContent = hours.status;
    hoursNode.className = hours.open ? "hours" : "hours closed";
    hoursNode.hidden = false;
    if (atBottom) scrollToEnd();
  }

  // Operator replies: polled from the desk; each outbox id is shown once, also across reloads.

  var pollTimer = null;
  var polling = false;

  function schedulePoll(delay) {
    window.clearTimeout(pollTimer);
    pollTimer = window.setTimeout(poll, delay);
  }

  function poll() {
    var interval = (state.pollSeconds || DEFAULT_POLL_SECONDS) * 1000;
    if (!state.session || polling || document.hidden) {
      if (state.session) schedulePoll(interval);
      return;
    }
    polling = true;
    var after = state.lastId || 0;
    api("/widget/api/updates?session=" + encodeURIComponent(state.session) + "&after=" + after + "&lang=" +
        state.language, { authorised: true }).then(function (answer) {
      if (answer.status === 401) {
        state.session = null;
        state.token = null;
        save();
        return;
      }
      if (!answer.ok) return;
      showUpdates(answer.data.messages || []);
    }).catch(function () { /* offline: the next poll tries again */ }).then(function () {
      polling = false;
      if (state.session) schedulePoll(interval);
    });
  }

  function showUpdates(messages) {
    var shown = {};
    state.history.forEach(function (item) { if (item.outboxId) shown[item.outboxId] = true; });
    messages.forEach(function (message) {
      if (message.id <= state.lastId || shown[message.id]) return;
      state.lastId = message.id;
      if (message.language) setLanguage(message.language);
      addItem({ id: "out" + message.id, outboxId: message.id, role: message.kind === "resolved" || message.kind === "update_notice" ? "notice" : "operator",
        text: message.text });
      if (panel.hidden) state.unread = (state.unread || 0) + 1;
    });
    save();
    updateBadge();
  }

  // Opening and closing

  function openPanel(moveFocus) {
    panel.hidden = false;
    launcher.hidden = true;
    launcher.setAttribute("aria-expanded", "true");
    state.open = true;
    state.unread = 0;
    save();
    updateBadge();
    scrollToEnd();
    refreshHours();
    if (moveFocus) input.focus();
  }

  function closePanel() {
    panel.hidden = true;
    launcher.hidden = false;
    launcher.setAttribute("aria-expanded", "false");
    state.open = false;
    save();
    updateBadge();
    launcher.focus();
  }

  function restart() {
    var language = state.language;
    state = freshState();
    state.language = language;
    state.open = true;
    save();
    renderAll();
    announce({ role: "notice", text: t("restartDone") });
    input.focus();
  }

  launcher.addEventListener("click", function () { openPanel(true); });
  closeButton.addEventListener("click", closePanel);
  restartButton.addEventListener("click", restart);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      event.preventDefault();
      closePanel();
    }
  });
  composer.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text || busy) return;
    input.value = "";
    input.style.height = "";
    send(text, text).then(function () { input.focus(); });
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      composer.requestSubmit ? composer.requestSubmit() : composer.dispatchEvent(new Event("submit", { cancelable: true }));
    }
  });
  input.addEventListener("input", function () {
    input.style.height = "";
    input.style.height = Math.min(input.scrollHeight, 120) + "px";
  });
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && state.session) schedulePoll(0);
  });
  // Another tab of the same site moved the conversation on: show the same thing here.
  window.addEventListener("storage", function (event) {
    if (event.key !== STORE_KEY) return;
    state = load();
    applyLanguage();
    renderAll();
  });

  function start() {
    document.body.appendChild(host);
    applyLanguage();
    renderAll();
    if (state.open) openPanel(false); // after a navigation: open again, without taking the page's focus
    if (state.session) schedulePoll(0);
  }

  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
