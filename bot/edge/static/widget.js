/* Forum assistant widget: a first-party chat panel for the parents' forum.
 *
 * Embed: <script src="https://HOST/widget.js" defer></script> (optional data-title,
 * data-colour, data-exit-url). No framework and no third-party request: the API and the
 * stylesheet are fetched from the host this script came from.
 *
 * Privacy: the conversation lives only in this tab's sessionStorage (never cookies or
 * localStorage). "Clear conversation" and "Exit quickly" (button, or Shift pressed three
 * times) wipe it in the browser and ask the server to delete its copy: every session id
 * the tab used for it (the server may have issued a new one after a pause or a restart).
 * "Clear conversation" says the server's copy is gone only when every delete answered
 * 204, and retries the others while the tab stays open.
 * Safety: every text from the server is rendered as text, never as HTML; links are made
 * only for http, https, tel and mailto.
 */
(function () {
  "use strict";

  // Replaced by the edge app with the configured quick-exit destination (edge.exit_url).
  var DEFAULT_EXIT_URL = "__FORUM_ASSISTANT_EXIT_URL__";

  var html = document.documentElement;
  if (html.hasAttribute("data-fa-widget")) return; // embedded twice: keep the first
  html.setAttribute("data-fa-widget", "");

  var STORE_KEY = "fa-chat";
  var FORGET_KEY = "fa-forget";   // ids whose server copy is not confirmed deleted yet
  var RETRY_MS = [1000, 3000, 10000, 30000, 60000];
  var MAX_STORED_MESSAGES = 200;
  var REQUEST_TIMEOUT_MS = 60000;
  var SHIFT_WINDOW_MS = 2000; // each Shift press within this of the previous one
  var ADVISER_PAYLOAD = "/request_human";
  var ALLOWED_PROTOCOLS = ["http:", "https:", "tel:", "mailto:"];
  var DEFAULT_COLOUR = "#1d70b8";
  var MIN_CONTRAST = 4.5;
  var TEXT = {
    title: "Forum assistant",
    subtitle: "An automated assistant: general information, not legal advice.",
    launcher: "Chat with the assistant",
    close: "Close chat",
    exit: "Exit quickly",
    exitHint: "Leaves this page at once for a neutral website and clears this chat. " +
      "Shortcut: press Shift three times.",
    exitArmed: "Shift pressed. Press it {n} more time(s) to exit this page.",
    adviser: "Talk to an adviser",
    clear: "Clear conversation",
    label: "Your question (please leave out names)",
    send: "Send",
    you: "You said:",
    bot: "Assistant said:",
    conversation: "Conversation",
    replies: "Suggested replies",
    typing: "The assistant is typing\u2026",
    starting: "The assistant is starting. Your message will be sent when it is ready.",
    wait: "Please wait for the answer before sending another message.",
    empty: "Please type a question first.",
    cleared: "Conversation cleared, here and on the server.",
    clearing: "Clearing the conversation\u2026",
    clearPending: "Cleared here. The server's copy could not be deleted yet: trying again.",
    notSent: "Sorry, that message could not be sent. Please try again.",
    unreachable: "Sorry, the assistant cannot be reached right now. Please try again " +
      "in a moment, or post your question on the forum."
  };

  // --- Configuration from the script tag -------------------------------------------------
  var script = document.currentScript || findOwnScript();
  var scriptUrl = (script && script.src) || window.location.href;

  function findOwnScript() {
    var scripts = document.querySelectorAll("script[src]");
    for (var i = scripts.length - 1; i >= 0; i--) {
      if (/\/widget\.js(?:[?#]|$)/.test(scripts[i].src)) return scripts[i];
    }
    return null;
  }

  function attr(name) {
    return script ? (script.getAttribute(name) || "").trim() : "";
  }

  /** The API and stylesheet sit beside this script, so the forum can load it cross-origin. */
  function ownUrl(path) {
    return new URL(path, scriptUrl).href;
  }

  function httpUrl(value) {
    try {
      var url = new URL(value);
      if (url.protocol === "https:" || url.protocol === "http:") return url.href;
    } catch (e) { /* not a URL */ }
    return null;
  }

  function parseHex(value) {
    var match = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(value);
    if (!match) return null;
    var hex = match[1].length === 3 ? match[1].replace(/./g, "$&$&") : match[1];
    return [0, 2, 4].map(function (i) { return parseInt(hex.slice(i, i + 2), 16); });
  }

  function luminance(rgb) {
    var c = rgb.map(function (v) {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  }

  /** White text sits on the colour, so only a colour with WCAG contrast >= 4.5:1 is taken. */
  function accentColour(value) {
    var rgb = parseHex(value);
    if (!rgb) return DEFAULT_COLOUR;
    var ratio = 1.05 / (luminance(rgb) + 0.05);
    return ratio >= MIN_CONTRAST ? value.toLowerCase() : DEFAULT_COLOUR;
  }

  var title = attr("data-title").slice(0, 60) || TEXT.title;
  var colour = accentColour(attr("data-colour") || attr("data-color"));
  var exitUrl = httpUrl(attr("data-exit-url")) || httpUrl(DEFAULT_EXIT_URL) || "about:blank";

  // --- Storage: this tab only ---------------------------------------------------------------
  function storage() {
    try { return window.sessionStorage; } catch (e) { return null; }
  }

  function emptyState(open) {
    return { session: null, sessions: [], messages: [], replies: [], open: !!open };
  }

  function idList(value) {
    return (Array.isArray(value) ? value : []).filter(function (id) {
      return typeof id === "string" && id;
    });
  }

  function cleanButtons(list) {
    if (!Array.isArray(list)) return [];
    return list.filter(function (b) {
      return b && typeof b.title === "string" && typeof b.payload === "string";
    }).map(function (b) { return { title: b.title, payload: b.payload }; });
  }

  function loadState() {
    var state = emptyState(false);
    try {
      var raw = storage() && storage().getItem(STORE_KEY);
      var data = raw ? JSON.parse(raw) : null;
      if (data && typeof data === "object") {
        state.session = typeof data.session === "string" ? data.session : null;
        state.sessions = idList(data.sessions);
        if (state.session && state.sessions.indexOf(state.session) < 0) {
          state.sessions.push(state.session);
        }
        state.open = data.open === true;
        state.replies = cleanButtons(data.replies);
        state.messages = (Array.isArray(data.messages) ? data.messages : []).filter(function (m) {
          return m && (m.who === "bot" || m.who === "user") && typeof m.text === "string";
        });
      }
    } catch (e) { /* unreadable: start afresh */ }
    return state;
  }

  function saveState() {
    try {
      if (state.messages.length > MAX_STORED_MESSAGES) {
        state.messages = state.messages.slice(-MAX_STORED_MESSAGES);
      }
      var store = storage();
      if (store) store.setItem(STORE_KEY, JSON.stringify(state));
    } catch (e) { /* storage full or blocked: the page still works for this view */ }
  }

  function wipeState() {
    try {
      var store = storage();
      if (store) store.removeItem(STORE_KEY);
    } catch (e) { /* nothing stored */ }
  }

  function loadForgetting() {
    try {
      var raw = storage() && storage().getItem(FORGET_KEY);
      return idList(raw ? JSON.parse(raw) : []);
    } catch (e) {
      return [];
    }
  }

  function saveForgetting() {
    try {
      var store = storage();
      if (!store) return;
      if (forgetting.length) store.setItem(FORGET_KEY, JSON.stringify(forgetting));
      else store.removeItem(FORGET_KEY);
    } catch (e) { /* blocked: retried while this page stays open */ }
  }

  /** Every session id the conversation used, so clearing deletes them all. */
  function adopt(id) {
    state.session = id;
    if (state.sessions.indexOf(id) < 0) state.sessions.push(id);
  }

  // --- Building the interface -----------------------------------------------------------------
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text) node.textContent = text;
    return node;
  }

  var state = loadState();
  var forgetting = loadForgetting(); // session ids still to delete on the server
  var busy = false;       // a request is waiting for its answer
  var opening = false;    // that request is the one opening the session
  var queued = null;      // text typed while the session was opening
  var epoch = 0;          // bumped by "Clear conversation": late answers are dropped
  var inflight = null;    // the promise of the request in flight
  var exiting = false;

  var root = el("div", { id: "fa-root", "class": "fa-root" });
  root.style.setProperty("--fa-accent", colour);

  var exitBar = el("div", { "class": "fa-root fa-exit-bar" });
  exitBar.style.setProperty("--fa-accent", colour);
  var exitButton = el("button", { type: "button", "class": "fa-exit", "aria-describedby": "fa-exit-hint" },
    TEXT.exit);
  var exitHint = el("span", { id: "fa-exit-hint", "class": "fa-vh" }, TEXT.exitHint);
  var exitStatus = el("span", { "class": "fa-vh", role: "status" });
  exitBar.appendChild(exitButton);
  exitBar.appendChild(exitHint);
  exitBar.appendChild(exitStatus);

  var launcher = el("button", {
    type: "button", "class": "fa-launcher", "aria-expanded": "false", "aria-controls": "fa-panel"
  }, TEXT.launcher);

  var panel = el("div", {
    id: "fa-panel", "class": "fa-panel", role: "dialog", "aria-modal": "false",
    "aria-labelledby": "fa-title", "aria-describedby": "fa-subtitle"
  });
  panel.hidden = true;

  var header = el("div", { "class": "fa-header" });
  var heading = el("h2", { id: "fa-title", "class": "fa-title" }, title);
  var closeButton = el("button", { type: "button", "class": "fa-close", "aria-label": TEXT.close });
  closeButton.appendChild(el("span", { "aria-hidden": "true" }, "\u00d7"));
  header.appendChild(heading);
  header.appendChild(closeButton);

  var subtitle = el("p", { id: "fa-subtitle", "class": "fa-subtitle" }, TEXT.subtitle);
  var tools = el("div", { "class": "fa-tools" });
  var adviserButton = el("button", { type: "button", "class": "fa-tool" }, TEXT.adviser);
  var clearButton = el("button", { type: "button", "class": "fa-tool" }, TEXT.clear);
  tools.appendChild(adviserButton);
  tools.appendChild(clearButton);

  var log = el("div", {
    "class": "fa-log", role: "log", "aria-live": "polite", "aria-label": TEXT.conversation,
    tabindex: "0"
  });
  var repliesBox = el("div", { "class": "fa-replies", role: "group", "aria-label": TEXT.replies });
  repliesBox.hidden = true;
  var statusRow = el("div", { "class": "fa-status-row" });
  var typing = el("span", { "class": "fa-typing", "aria-hidden": "true" });
  for (var d = 0; d < 3; d++) typing.appendChild(el("span", { "class": "fa-dot" }));
  typing.hidden = true;
  var status = el("p", { "class": "fa-status", role: "status" });
  statusRow.appendChild(typing);
  statusRow.appendChild(status);

  var form = el("form", { "class": "fa-form", novalidate: "" });
  var label = el("label", { "for": "fa-input", "class": "fa-label" }, TEXT.label);
  var input = el("textarea", {
    id: "fa-input", "class": "fa-input", rows: "2", autocomplete: "off", enterkeyhint: "send"
  });
  var sendButton = el("button", { type: "submit", "class": "fa-send", "aria-disabled": "false" },
    TEXT.send);
  var inputRow = el("div", { "class": "fa-input-row" });
  inputRow.appendChild(input);
  inputRow.appendChild(sendButton);
  form.appendChild(label);
  form.appendChild(inputRow);

  [header, subtitle, tools, log, repliesBox, statusRow, form].forEach(function (part) {
    panel.appendChild(part);
  });
  root.appendChild(panel);
  root.appendChild(launcher);

  // --- Rendering messages (always as text) ----------------------------------------------------
  var LINK = /(\bhttps?:\/\/[^\s<>"']*[^\s<>"'.,;:!?)\]])|([A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})|(\b0\d{2,4}(?: ?\d{3,4}){1,2}\b|\b116 ?\d{3}\b|\b999\b)/g;

  /** A link's href when its scheme is allowed; otherwise null and the text stays text. */
  function safeHref(href) {
    try {
      var url = new URL(href);
      return ALLOWED_PROTOCOLS.indexOf(url.protocol) >= 0 ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function linkFor(match) {
    if (match[1]) return safeHref(match[1]);
    if (match[2]) return safeHref("mailto:" + match[2]);
    var digits = match[3].replace(/\D/g, "");
    var phoneLike = digits.length >= 8 && digits.length <= 11;
    return phoneLike || digits === "999" || /^116\d{3}$/.test(digits) ? "tel:" + digits : null;
  }

  function appendText(parent, text) {
    var last = 0;
    var match;
    LINK.lastIndex = 0;
    while ((match = LINK.exec(text)) !== null) {
      var href = linkFor(match);
      if (!href) continue;
      if (match.index > last) parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      var link = el("a", { href: href, "class": "fa-link", rel: "noreferrer" }, match[0]);
      parent.appendChild(link);
      last = match.index + match[0].length;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function renderMessage(message) {
    var item = el("div", { "class": "fa-msg fa-msg-" + message.who });
    item.appendChild(el("span", { "class": "fa-vh" }, message.who === "user" ? TEXT.you + " " : TEXT.bot + " "));
    var body = el("p", { "class": "fa-text" });
    if (message.who === "bot") appendText(body, message.text);
    else body.textContent = message.text;
    item.appendChild(body);
    log.appendChild(item);
    return item;
  }

  function renderReplies() {
    repliesBox.textContent = "";
    state.replies.forEach(function (reply) {
      var button = el("button", { type: "button", "class": "fa-reply" }, reply.title);
      button.addEventListener("click", function () { choose(reply); });
      repliesBox.appendChild(button);
    });
    repliesBox.hidden = state.replies.length === 0;
  }

  /** Scroll the log (never the page, never the focus) so `item` starts in view. */
  function reveal(item) {
    log.scrollTop = Math.max(0, item.offsetTop - 8); // .fa-log is the offset parent
  }

  /** Show the parent's question above its answer when both fit; else the answer's start. */
  function withQuestion(item) {
    var prev = item.previousElementSibling;
    var mine = prev && /fa-msg-user/.test(prev.className);
    return mine && item.offsetTop - prev.offsetTop < log.clientHeight / 2 ? prev : item;
  }

  function addUserMessage(text) {
    var message = { who: "user", text: text };
    state.messages.push(message);
    reveal(renderMessage(message));
    saveState();
  }

  function addBotMessages(messages) {
    var first = null;
    var replies = [];
    messages.forEach(function (m) {
      if (!m || typeof m.text !== "string" || !m.text) {
        replies = replies.concat(cleanButtons(m && m.buttons));
        return;
      }
      var message = { who: "bot", text: m.text };
      state.messages.push(message);
      var item = renderMessage(message);
      first = first || item;
      replies = replies.concat(cleanButtons(m.buttons));
    });
    state.replies = replies;
    renderReplies();
    if (first) reveal(withQuestion(first));
    saveState();
  }

  /** A refusal or failure line: shown once; the same line twice in a row goes to the status. */
  function addNotice(text) {
    var previous = state.messages[state.messages.length - 1];
    if (previous && previous.who === "bot" && previous.text === text) {
      setStatus(text);
      return;
    }
    addBotMessages([{ text: text }]);
  }

  function clearReplies() {
    if (repliesBox.contains(document.activeElement)) input.focus(); // the user's own action
    state.replies = [];
    renderReplies();
  }

  function setStatus(text) {
    status.textContent = text || "";
  }

  function setBusy(value, statusText) {
    busy = value;
    sendButton.setAttribute("aria-disabled", value ? "true" : "false");
    typing.hidden = !value;
    if (statusText !== undefined) setStatus(statusText);
  }

  /** The wait is over: drop the waiting notes, keep anything the answer put in the status. */
  function settle() {
    var waiting = [TEXT.typing, TEXT.starting, TEXT.wait];
    setBusy(false, waiting.indexOf(status.textContent) >= 0 ? "" : undefined);
  }

  // --- Talking to the edge app ----------------------------------------------------------------
  /** fetch that never throws: {status, data}; status 0 when the server could not be reached. */
  function call(method, path, body) {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS) : null;
    var options = {
      method: method, credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer",
      headers: body ? { "Content-Type": "application/json" } : {}
    };
    if (body) options.body = JSON.stringify(body);
    if (controller) options.signal = controller.signal;
    return fetch(ownUrl(path), options).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (data) {
        return { status: response.status, data: data };
      });
    }).catch(function () {
      return { status: 0, data: null };
    }).then(function (result) {
      if (timer) clearTimeout(timer);
      return result;
    });
  }

  /** One DELETE; resolves true only on 204 (keepalive: it survives leaving the page). */
  function deleteOnServer(id) {
    try {
      return fetch(ownUrl("api/session/" + encodeURIComponent(id)), {
        method: "DELETE", credentials: "omit", keepalive: true, referrerPolicy: "no-referrer",
        cache: "no-store"
      }).then(function (response) {
        return response.status === 204;
      }, function () {
        return false;
      });
    } catch (e) {
      return Promise.resolve(false);
    }
  }

  /** Delete `id` on the server, retrying with growing pauses; resolves true once deleted
   * (false after the first failure; the retries go on and call `settled` when done). */
  function forgetOne(id, attempt, settled) {
    return deleteOnServer(id).then(function (ok) {
      if (ok) {
        var at = forgetting.indexOf(id);
        if (at >= 0) forgetting.splice(at, 1);
        saveForgetting();
        if (settled) settled();
        return true;
      }
      if (attempt < RETRY_MS.length) {
        setTimeout(function () { forgetOne(id, attempt + 1, settled); }, RETRY_MS[attempt]);
      }
      return false;
    });
  }

  /** Ask the server to delete these conversations; resolves true when all answered 204. */
  function forgetOnServer(ids, settled) {
    ids = idList(ids);
    ids.forEach(function (id) {
      if (forgetting.indexOf(id) < 0) forgetting.push(id);
    });
    saveForgetting();
    return Promise.all(ids.map(function (id) { return forgetOne(id, 0, settled); }))
      .then(function (results) { return results.every(Boolean); });
  }

  function showReply(result) {
    var data = result.data && typeof result.data === "object" ? result.data : {};
    if (typeof data.session === "string" && data.session) adopt(data.session);
    var messages = Array.isArray(data.messages) ? data.messages : [];
    var ok = result.status >= 200 && result.status < 300;
    if (ok && messages.length) {
      addBotMessages(messages);
    } else if (messages.length && messages[0] && typeof messages[0].text === "string") {
      addNotice(messages[0].text); // the server's own kind line (413, 429, 503)
    } else {
      addNotice(result.status === 0 || result.status >= 500 ? TEXT.unreachable : TEXT.notSent);
    }
    saveState();
  }

  function startSession(quiet) {
    var mine = epoch;
    opening = true;
    setBusy(true, quiet ? undefined : TEXT.typing);
    inflight = call("POST", "api/session").then(function (result) {
      if (mine !== epoch) {
        if (result.data && result.data.session) forgetOnServer([result.data.session]);
        return;
      }
      showReply(result);
    });
    inflight.then(function () {
      if (mine !== epoch) return;
      inflight = null;
      opening = false;
      if (quiet) setBusy(false);
      else settle();
      if (queued !== null) {
        var text = queued;
        queued = null;
        send({ text: text }, text);
      }
    });
  }

  function send(body, typedText) {
    var mine = epoch;
    body.session = state.session;
    setBusy(true, TEXT.typing);
    inflight = call("POST", "api/message", body).then(function (result) {
      if (mine !== epoch) {
        if (result.data && result.data.session) forgetOnServer([result.data.session]);
        return;
      }
      showReply(result);
      if (result.status === 413 && typedText && !input.value) input.value = typedText;
    });
    inflight.then(function () {
      if (mine !== epoch) return;
      inflight = null;
      settle();
    });
  }

  // --- What the parent does ---------------------------------------------------------------------
  function submitText() {
    var text = input.value.trim();
    if (!text) {
      setStatus(TEXT.empty);
      return;
    }
    if (busy && !(opening && queued === null)) {
      setStatus(TEXT.wait);
      return;
    }
    input.value = "";
    addUserMessage(text);
    clearReplies();
    if (opening) {
      queued = text;
      setStatus(TEXT.starting);
      return;
    }
    send({ text: text }, text);
  }

  function choose(reply) {
    if (busy) {
      setStatus(TEXT.wait);
      return;
    }
    addUserMessage(reply.title);
    clearReplies();
    send({ payload: reply.payload, title: reply.title });
  }

  function talkToAdviser() {
    if (busy) {
      setStatus(TEXT.wait);
      return;
    }
    addUserMessage(TEXT.adviser);
    clearReplies();
    send({ payload: ADVISER_PAYLOAD, title: TEXT.adviser });
  }

  function clearConversation() {
    var old = state.sessions.slice();
    if (state.session && old.indexOf(state.session) < 0) old.push(state.session);
    epoch += 1;
    // The server refuses to store a cleared conversation again, so a turn still in
    // flight cannot bring it back: delete at once.
    var mine = epoch;
    var confirm = function () {
      if (mine === epoch && status.textContent === TEXT.clearPending && !pendingOf(old)) {
        setStatus(TEXT.cleared);
      }
    };
    forgetOnServer(old, confirm).then(function (all) {
      if (mine !== epoch) return;
      if (status.textContent === TEXT.clearing || status.textContent === TEXT.clearPending) {
        setStatus(all ? TEXT.cleared : TEXT.clearPending);
      }
    });
    inflight = null;
    opening = false;
    queued = null;
    wipeState();
    state = emptyState(!panel.hidden);
    log.textContent = "";
    clearReplies();
    setBusy(false, TEXT.clearing);
    if (!panel.hidden) startSession(true);
  }

  /** Whether any of these ids still waits for its server copy to be deleted. */
  function pendingOf(ids) {
    return ids.some(function (id) { return forgetting.indexOf(id) >= 0; });
  }

  function openPanel(moveFocus) {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    state.open = true;
    if (moveFocus) input.focus();
    if (!state.session && !busy) startSession(false);
    else saveState();
  }

  function closePanel(focusLauncher) {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    state.open = false;
    if (state.session || state.messages.length) saveState();
    if (focusLauncher) launcher.focus();
  }

  /** Quick exit: blank the page at once, wipe this tab's copy, tell the server, leave. */
  function exitQuickly() {
    if (exiting) return;
    exiting = true;
    html.style.setProperty("background", "#fff", "important");
    if (document.body) document.body.style.setProperty("display", "none", "important");
    document.title = "\u200b";
    var old = state.sessions.concat(forgetting);
    if (state.session) old.push(state.session);
    wipeState();
    state = emptyState(false);
    log.textContent = "";
    // Keepalive deletes of every id; nothing is kept in this tab to retry them (leaving
    // no trace comes first), so the server's retention purge is the fallback.
    forgetting = [];
    saveForgetting();
    idList(old).forEach(function (id) { deleteOnServer(id); });
    try {
      window.location.replace(exitUrl);
    } catch (e) {
      window.location.href = exitUrl;
    }
  }

  var shiftPresses = 0;
  var lastShift = 0;

  function onKeydown(event) {
    if (event.key !== "Shift") {
      shiftPresses = 0;
      return;
    }
    if (event.repeat) return;
    var now = Date.now();
    shiftPresses = now - lastShift <= SHIFT_WINDOW_MS ? shiftPresses + 1 : 1;
    lastShift = now;
    if (shiftPresses >= 3) {
      shiftPresses = 0;
      exitQuickly();
    } else {
      exitStatus.textContent = TEXT.exitArmed.replace("{n}", String(3 - shiftPresses));
      setTimeout(function () { exitStatus.textContent = ""; }, SHIFT_WINDOW_MS);
    }
  }

  launcher.addEventListener("click", function () {
    if (panel.hidden) openPanel(true);
    else closePanel(false);
  });
  closeButton.addEventListener("click", function () { closePanel(true); });
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape" || event.key === "Esc") {
      event.preventDefault();
      closePanel(true);
    }
  });
  adviserButton.addEventListener("click", talkToAdviser);
  clearButton.addEventListener("click", clearConversation);
  exitButton.addEventListener("click", exitQuickly);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    submitText();
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submitText();
    }
  });
  document.addEventListener("keydown", onKeydown, true);

  // --- Start -----------------------------------------------------------------------------------
  /** Load widget.css from beside this script unless the page links it; then call `ready`. */
  function withStylesheet(ready) {
    var href = ownUrl("widget.css");
    var links = document.querySelectorAll("link[rel~='stylesheet']");
    for (var i = 0; i < links.length; i++) {
      if (links[i].href === href) return ready();
    }
    var link = el("link", { rel: "stylesheet", href: href });
    var done = false;
    function once() {
      if (!done) { done = true; ready(); }
    }
    link.addEventListener("load", once);
    link.addEventListener("error", once);
    setTimeout(once, 3000); // never wait long: the quick exit must appear
    document.head.appendChild(link);
  }

  function mount() {
    if (forgetting.length) forgetOnServer(forgetting.slice()); // left over from a reload
    document.body.insertBefore(exitBar, document.body.firstChild);
    document.body.appendChild(root);
    state.messages.forEach(renderMessage);
    renderReplies();
    if (state.open) {
      openPanel(false); // restored after a reload: the focus stays where the browser put it
      log.scrollTop = log.scrollHeight;
    }
  }

  /** A page restored from the back-forward cache shows what storage holds now: after a
   * quick exit or a clear on a later page, an earlier page must not show the old chat. */
  function resync(event) {
    if (!event.persisted) return;
    state = loadState();
    log.textContent = "";
    state.messages.forEach(renderMessage);
    renderReplies();
    if (!state.open && !panel.hidden) closePanel(false);
  }

  function start() {
    withStylesheet(mount);
    window.addEventListener("pageshow", resync);
  }

  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
