/* Resonanz website chat widget.
 *
 * One <script src=".../widget.js" data-resonanz-chat="<channel>" async></script> on the host page. No framework,
 * no build step, no global names (everything lives in this function), styles isolated in a shadow root, and no
 * innerHTML: every visitor, bot or agent text goes into the page as textContent.
 * Optional attributes: data-lang ("de"/"en", else the page's or browser's language), data-user-id and
 * data-user-hash (the host site's HMAC-SHA256 of the user id with the channel's secret).
 */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[data-resonanz-chat]");
  if (!script || !script.src) { return; }
  var slug = script.getAttribute("data-resonanz-chat") || "";
  if (!/^[A-Za-z0-9_-]+$/.test(slug)) { return; }
  var scriptUrl = new URL(script.src, document.baseURI);
  var api = scriptUrl.origin + "/chat/" + slug + "/";
  var storeKey = "resonanz-chat:" + slug;

  var TEXT = {
    en: {
      open: "Chat with us", close: "Close chat", placeholder: "Type your message…", send: "Send",
      person: "Talk to a person", personLine: "I would like to talk to a person.", helped: "Did that help?",
      yes: "Yes, thanks", no: "No, talk to a person", handedOver: "You are being connected with our team. A person will answer here.",
      answering: "{name} is answering.", offline: "We are offline right now. Leave us a message and we will answer by email.",
      name: "Your name", email: "Your email address", topic: "Topic", message: "Your message", leave: "Send message",
      left: "Thank you! We will answer by email.", start: "Start chat", prechat: "Before we start, please tell us:",
      sending: "Sending…", retrying: "Not sent yet, trying again…", you: "You", bot: "Virtual assistant",
      agent: "Support", resolved: "Glad we could help!", typing: "typing…", unread: "new messages",
      waiting: "Thank you! Someone from our team will answer here shortly.",
      error: "The chat is not available right now.", required: "Please fill in this field."
    },
    de: {
      open: "Chatten Sie mit uns", close: "Chat schließen", placeholder: "Ihre Nachricht…", send: "Senden",
      person: "Mit einem Menschen sprechen", personLine: "Ich möchte mit einem Mitarbeiter sprechen.",
      helped: "Hat das geholfen?", yes: "Ja, danke", no: "Nein, Mitarbeiter bitte",
      handedOver: "Wir verbinden Sie mit unserem Team. Ein Mensch antwortet Ihnen hier.",
      answering: "{name} antwortet Ihnen.", offline: "Wir sind gerade nicht erreichbar. Hinterlassen Sie uns eine Nachricht, wir antworten per E-Mail.",
      name: "Ihr Name", email: "Ihre E-Mail-Adresse", topic: "Thema", message: "Ihre Nachricht", leave: "Nachricht senden",
      left: "Danke! Wir antworten Ihnen per E-Mail.", start: "Chat starten", prechat: "Bevor es losgeht, sagen Sie uns bitte:",
      sending: "Wird gesendet…", retrying: "Noch nicht gesendet, neuer Versuch…", you: "Sie", bot: "Virtueller Assistent",
      agent: "Support", resolved: "Schön, dass wir helfen konnten!", typing: "schreibt…", unread: "neue Nachrichten",
      waiting: "Danke! Jemand aus unserem Team antwortet Ihnen hier in Kürze.",
      error: "Der Chat ist gerade nicht verfügbar.", required: "Bitte füllen Sie dieses Feld aus."
    }
  };
  function pickLanguage() {
    var wanted = script.getAttribute("data-lang") || document.documentElement.lang || navigator.language || "en";
    return wanted.slice(0, 2).toLowerCase() === "de" ? "de" : "en";
  }
  var lang = pickLanguage();
  var t = TEXT[lang];

  // --- storage that survives reloads and navigation (a visitor id inside a server-signed token) ---------------
  function load() {
    try { return JSON.parse(window.localStorage.getItem(storeKey) || "{}") || {}; } catch (e) { return {}; }
  }
  function save(data) {
    try { window.localStorage.setItem(storeKey, JSON.stringify(data)); } catch (e) { /* private mode: session only */ }
  }
  var stored = load();
  var pages = Array.isArray(stored.pages) ? stored.pages : [];
  if (pages[pages.length - 1] !== location.href) { pages.push(location.href); }
  stored.pages = pages.slice(-20);
  save(stored);

  // --- talking to Resonanz ----------------------------------------------------------------------------------
  function call(method, path, body) {
    var headers = {};
    if (body !== undefined) { headers["Content-Type"] = "application/json"; }
    if (stored.token) { headers["X-Resonanz-Chat"] = stored.token; }
    return fetch(api + path, {
      method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit", mode: "cors", cache: "no-store"
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) { var err = new Error(data.error || ("HTTP " + response.status)); err.status = response.status; throw err; }
        return data;
      });
    });
  }
  function newId() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // --- building the DOM without innerHTML --------------------------------------------------------------------
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") { node.textContent = attrs[key]; } else { node.setAttribute(key, attrs[key]); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }
  function icon(path) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var p = document.createElementNS(ns, "path");
    p.setAttribute("d", path);
    svg.appendChild(p);
    return svg;
  }
  function linkify(parent, text) {
    // URLs become links (http/https only); everything else stays text.
    var pattern = /https?:\/\/[^\s<>"']+/g, last = 0, match;
    while ((match = pattern.exec(text)) !== null) {
      var url = match[0].replace(/[.,;:!?)]+$/, "");
      parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      parent.appendChild(el("a", { href: url, target: "_blank", rel: "noopener noreferrer", text: url }));
      last = match.index + url.length;
      pattern.lastIndex = last;
    }
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  var host = el("div", { "data-resonanz-chat-host": slug });
  var root = host.attachShadow({ mode: "open" });
  var cssUrl = scriptUrl.href.replace(/widget\.js(\?.*)?$/, "widget.css");
  root.appendChild(el("link", { rel: "stylesheet", href: cssUrl }));

  var ids = { panel: "rz-panel", title: "rz-title", log: "rz-log", input: "rz-input" };
  var launcher = el("button", { type: "button", class: "launcher", "aria-haspopup": "dialog", "aria-expanded": "false",
                                "aria-controls": ids.panel, "aria-label": t.open, title: t.open },
                    [icon("M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z")]);
  var badge = el("span", { class: "badge", hidden: "" });
  launcher.appendChild(badge);
  var title = el("h2", { id: ids.title, text: t.open });
  var personButton = el("button", { type: "button", class: "ghost", text: t.person });
  var closeButton = el("button", { type: "button", class: "close", "aria-label": t.close, title: t.close },
                       [icon("M6 6l12 12M18 6L6 18")]);
  var status = el("p", { class: "status", role: "status", hidden: "" });
  var log = el("div", { id: ids.log, class: "log", role: "log", "aria-live": "polite", "aria-labelledby": ids.title, tabindex: "0" });
  var typing = el("p", { class: "typing", hidden: "", text: t.typing });
  var input = el("textarea", { id: ids.input, rows: "1", maxlength: "2000", placeholder: t.placeholder, "aria-label": t.placeholder });
  var sendButton = el("button", { type: "submit", class: "send", "aria-label": t.send, title: t.send },
                      [icon("M3 20l18-8L3 4v6l12 2-12 2z")]);
  var composer = el("form", { class: "composer" }, [input, sendButton]);
  var body = el("div", { class: "body" }, [log, typing]);
  var panel = el("div", { id: ids.panel, class: "panel", role: "dialog", "aria-modal": "true", "aria-labelledby": ids.title, hidden: "" },
                 [el("header", {}, [title, personButton, closeButton]), status, body, composer]);
  var frame = el("div", { class: "frame" }, [panel, launcher]);
  root.appendChild(frame);

  // --- state ---------------------------------------------------------------------------------------------------
  var config = null, lastId = 0, shown = {}, pending = {}, timer = null, isOpen = false, unread = 0;
  var lastState = { handed_over: false, agent: "", status: "" }, waitingSince = 0, lastRead = 0;

  function timeOf(iso) {
    try { return new Date(iso).toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" }); } catch (e) { return ""; }
  }
  function bubble(who, name, text, when, extraClass) {
    var meta = el("span", { class: "meta", text: name + (when ? " · " + timeOf(when) : "") });
    var textNode = el("p", { class: "text" });
    linkify(textNode, text);
    return el("div", { class: "line " + who + (extraClass ? " " + extraClass : "") }, [meta, textNode]);
  }
  function scrollDown() { log.scrollTop = log.scrollHeight; }
  function system(text) { log.appendChild(el("p", { class: "system", text: text })); scrollDown(); }

  function renderLine(line) {
    if (shown[line.id]) { return; }
    shown[line.id] = true;
    lastId = Math.max(lastId, line.id);
    if (line.from === "visitor" && line.client_id && pending[line.client_id]) {
      var node = pending[line.client_id].node;
      node.classList.remove("pending");
      node.querySelector(".meta").textContent = t.you + " · " + timeOf(line.at);
      delete pending[line.client_id];
      return;
    }
    var name = line.from === "visitor" ? t.you : (line.from === "bot" ? t.bot : (line.name || t.agent));
    var node2 = bubble(line.from, name, line.text, line.at);
    node2.setAttribute("data-id", String(line.id));
    log.appendChild(node2);
    if (line.from !== "visitor") {
      typing.hidden = true;
      waitingSince = 0;
      Array.prototype.forEach.call(log.querySelectorAll(".helped"), function (n) { n.remove(); });
      if (line.from === "bot" && line.article && !lastState.handed_over && lastState.status !== "resolved") {
        log.appendChild(helpedQuestion(line.id));
      }
      if (!isOpen) { unread += 1; }
    }
    scrollDown();
  }
  function helpedQuestion(messageId) {
    var yes = el("button", { type: "button", text: t.yes });
    var no = el("button", { type: "button", class: "ghost", text: t.no });
    var box = el("div", { class: "helped", role: "group", "aria-label": t.helped }, [el("p", { text: t.helped }), yes, no]);
    yes.addEventListener("click", function () {
      box.remove();
      call("POST", "feedback/", { message_id: messageId, helpful: true, lang: lang }).then(function () { system(t.resolved); });
    });
    no.addEventListener("click", function () {
      box.remove();
      waitingSince = Date.now();
      call("POST", "feedback/", { message_id: messageId, helpful: false, lang: lang }).then(poll);
    });
    return box;
  }
  function showState(state) {
    if (!state) { return; }
    var text = "";
    if (state.agent) { text = t.answering.replace("{name}", state.agent); }
    else if (state.handed_over) { text = t.handedOver; }
    else if (state.waiting) { text = t.waiting; }
    if (state.waiting || state.handed_over) { waitingSince = 0; }
    status.textContent = text;
    status.hidden = !text;
    personButton.hidden = !!state.handed_over;
    if (state.handed_over || state.status === "resolved" || state.status === "closed") {
      Array.prototype.forEach.call(log.querySelectorAll(".helped"), function (n) { n.remove(); });
    }
    lastState = state;
  }
  function showBadge() {
    badge.textContent = unread ? String(unread) : "";
    badge.hidden = !unread;
    launcher.setAttribute("aria-label", unread ? t.open + " (" + unread + " " + t.unread + ")" : t.open);
  }

  // --- polling (the same idea as the inbox: ask for what is newer than the last id) -------------------------
  function poll() {
    if (!stored.token) { return Promise.resolve(); }
    return call("GET", "messages/?after=" + lastId).then(function (data) {
      (data.messages || []).forEach(renderLine);
      showState(data.state);
      typing.hidden = !(waitingSince && Date.now() - waitingSince < 15000 && !lastState.handed_over);
      showBadge();
      markRead();
    }).catch(function (err) {
      if (err.status === 401) { delete stored.token; save(stored); }  // the server no longer knows this token
      /* otherwise offline for a moment: the next poll catches up */
    });
  }
  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(function () { poll().then(schedule); }, isOpen ? 2000 : 15000);
  }
  function markRead() {
    if (!isOpen || document.hidden || lastId <= lastRead) { return; }
    lastRead = lastId;
    call("POST", "read/", { up_to: lastId }).catch(function () { lastRead = 0; });
  }

  function startSession(extra) {
    var body = { token: stored.token || "", user_id: script.getAttribute("data-user-id") || "",
                 user_hash: script.getAttribute("data-user-hash") || "" };
    Object.keys(extra || {}).forEach(function (k) { body[k] = extra[k]; });
    return call("POST", "session/", body).then(function (data) {
      if (stored.visitor_id && data.visitor_id !== stored.visitor_id) {  // another visitor now (the user changed)
        Array.prototype.forEach.call(log.querySelectorAll(".line:not(.greeting), .helped, .system"), function (n) { n.remove(); });
        shown = {}; lastId = 0; lastRead = 0;
      }
      stored.token = data.token;
      stored.visitor_id = data.visitor_id;
      save(stored);
    });
  }

  // A message typed while the session is still being opened waits for it instead of going out without a token.
  var starting = null;
  function ensureSession() {
    if (stored.token) { return Promise.resolve(); }
    if (!starting) {
      starting = startSession({}).then(function () { starting = null; }, function (err) { starting = null; throw err; });
    }
    return starting;
  }

  // --- sending with a client id: a resend after a network drop is stored once --------------------------------
  function send(text) {
    text = text.trim();
    if (!text) { return; }
    var clientId = newId();
    var node = bubble("visitor", t.sending, text, "", "pending");
    log.appendChild(node);
    scrollDown();
    pending[clientId] = { node: node, text: text, tries: 0 };
    waitingSince = Date.now();
    typing.hidden = lastState.handed_over;
    deliver(clientId);
  }
  function deliver(clientId) {
    var item = pending[clientId];
    if (!item) { return; }
    item.tries += 1;
    ensureSession()
      .then(function () {
        return call("POST", "messages/", { client_id: clientId, text: item.text, page: location.href, pages: stored.pages });
      })
      .then(function (data) { renderLine(data.message); poll(); })
      .catch(function (err) {
        if (err.status && err.status >= 400 && err.status < 500 && err.status !== 429) {
          item.node.querySelector(".meta").textContent = err.message;
          item.node.classList.add("failed");
          delete pending[clientId];
          return;
        }
        item.node.querySelector(".meta").textContent = t.retrying;
        window.setTimeout(function () { deliver(clientId); }, Math.min(30000, 1000 * Math.pow(2, item.tries)));
      });
  }

  // --- the forms: pre-chat questions and "leave a message" outside business hours ----------------------------
  function field(name, label, type, required) {
    var id = "rz-" + name;
    var control = type === "textarea" ? el("textarea", { id: id, name: name, rows: "4", maxlength: "2000" })
      : el("input", { id: id, name: name, type: type, maxlength: "200", autocomplete: name === "topic" ? "off" : name });
    if (required) { control.required = true; control.setAttribute("aria-required", "true"); }
    return el("div", { class: "field" }, [el("label", { for: id, text: label }), control]);
  }
  function form(intro, fields, submitLabel, onSubmit) {
    var error = el("p", { class: "error", role: "alert", hidden: "" });
    var f = el("form", { class: "form" }, [el("p", { text: intro })].concat(fields, [error, el("button", { type: "submit", text: submitLabel })]));
    f.addEventListener("submit", function (event) {
      event.preventDefault();
      var values = {};
      Array.prototype.forEach.call(f.querySelectorAll("input, textarea"), function (c) { values[c.name] = c.value.trim(); });
      onSubmit(values, f, error);
    });
    return f;
  }
  function prechatForm() {
    var wanted = config.prechat || [];
    var fields = wanted.map(function (n) { return field(n, t[n], n === "email" ? "email" : "text", n !== "topic"); });
    return form(t.prechat, fields, t.start, function (values, f, error) {
      startSession(values).then(function () {
        stored.prechat = true; save(stored); f.remove(); composer.hidden = false; personButton.hidden = false;
        input.focus(); poll();
      }).catch(function (err) { error.textContent = err.message; error.hidden = false; });
    });
  }
  function leaveForm() {
    var fields = [field("name", t.name, "text", false), field("email", t.email, "email", true), field("text", t.message, "textarea", true)];
    return form(t.offline, fields, t.leave, function (values, f, error) {
      values.client_id = newId();
      values.page = location.href;
      call("POST", "leave-message/", values).then(function () { f.remove(); system(t.left); })
        .catch(function (err) { error.textContent = err.message; error.hidden = false; });
    });
  }

  // --- opening and closing: the WAI-ARIA dialog pattern --------------------------------------------------------
  function focusables() {
    return Array.prototype.filter.call(panel.querySelectorAll("button, textarea, input, a[href], [tabindex='0']"),
      function (n) { return !n.hidden && !n.closest("[hidden]") && !n.disabled; });
  }
  function open() {
    isOpen = true;
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    frame.classList.add("is-open");
    unread = 0;
    showBadge();
    var first = panel.querySelector(".form input, .form textarea") || (composer.hidden ? closeButton : input);
    first.focus();
    stored.open = true; save(stored);
    if (!stored.token && !(config.prechat || []).length && config.open) {
      ensureSession().then(poll).then(schedule).catch(function () { system(t.error); });
    } else { poll().then(schedule); }
  }
  function close() {
    isOpen = false;
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    frame.classList.remove("is-open");
    stored.open = false; save(stored);
    launcher.focus();
    schedule();
  }
  launcher.addEventListener("click", function () { if (isOpen) { close(); } else { open(); } });
  closeButton.addEventListener("click", close);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { event.preventDefault(); close(); return; }
    if (event.key === "Tab") {
      var items = focusables(), first = items[0], last = items[items.length - 1];
      var active = root.activeElement;
      if (event.shiftKey && active === first) { event.preventDefault(); last.focus(); }
      else if (!event.shiftKey && active === last) { event.preventDefault(); first.focus(); }
    }
  });
  composer.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    input.value = "";
    send(text);
    input.focus();
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); composer.requestSubmit(); }
  });
  personButton.addEventListener("click", function () { send(t.personLine); });
  document.addEventListener("visibilitychange", markRead);

  // --- start: the channel's settings decide what the visitor sees ---------------------------------------------
  call("GET", "config/?lang=" + lang).then(function (data) {
    config = data;
    if (/^#[0-9a-fA-F]{6}$/.test(data.colour || "")) { host.style.setProperty("--rz-accent", data.colour); }
    frame.classList.add(data.position === "left" ? "left" : "right");
    title.textContent = data.name || t.open;
    if (data.greeting) { log.appendChild(el("p", { class: "line bot greeting", text: data.greeting })); }
    if (!data.open && !stored.token) {
      composer.hidden = true; personButton.hidden = true; log.appendChild(leaveForm());
    } else if ((data.prechat || []).length && !stored.token) {
      composer.hidden = true; personButton.hidden = true; log.appendChild(prechatForm());
    }
    document.body.appendChild(host);
    if (stored.open) { open(); } else if (stored.token) { poll().then(schedule); }
  }).catch(function () { /* not allowed on this site or unreachable: the page stays as it was */ });
})();
