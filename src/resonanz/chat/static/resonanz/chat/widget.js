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
      error: "The chat is not available right now.", required: "Please fill in this field.",
      attach: "Send a file", uploading: "Uploading…", fileTooBig: "This file is too large (at most {size}).",
      fileType: "Only images (PNG, JPEG, GIF, WebP), PDF and text files can be sent.", download: "Download {name}",
      agentTyping: "{name} is typing…", queue: "You are number {n} in the queue. Expected wait: about {m} min.",
      rateQuestion: "How satisfied are you with this chat?", rate: "{n} of 5", rateComment: "Anything you want to tell us? (optional)",
      rateSend: "Send rating", rateThanks: "Thank you for your feedback!", dismiss: "Dismiss",
      invitation: "Message from our team", chooseRating: "Please choose a rating from 1 to 5.",
      busy: "Very many people are writing to us right now. Your message is sent as soon as possible."
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
      error: "Der Chat ist gerade nicht verfügbar.", required: "Bitte füllen Sie dieses Feld aus.",
      attach: "Datei senden", uploading: "Wird hochgeladen…", fileTooBig: "Diese Datei ist zu groß (höchstens {size}).",
      fileType: "Senden können Sie Bilder (PNG, JPEG, GIF, WebP), PDF- und Textdateien.", download: "{name} herunterladen",
      agentTyping: "{name} schreibt…", queue: "Sie sind Nr. {n} in der Warteschlange. Geschätzte Wartezeit: etwa {m} Min.",
      rateQuestion: "Wie zufrieden sind Sie mit diesem Chat?", rate: "{n} von 5", rateComment: "Möchten Sie uns noch etwas sagen? (freiwillig)",
      rateSend: "Bewertung senden", rateThanks: "Danke für Ihre Rückmeldung!", dismiss: "Schließen",
      invitation: "Nachricht von unserem Team", chooseRating: "Bitte wählen Sie eine Bewertung von 1 bis 5.",
      busy: "Gerade schreiben uns sehr viele Menschen. Ihre Nachricht wird so bald wie möglich gesendet."
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
  var now = Date.now();
  if (!stored.lastSeen || now - stored.lastSeen > 30 * 60 * 1000) { stored.visits = (stored.visits || 0) + 1; }
  stored.lastSeen = now;
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
        if (!response.ok) { throw failure(response, data); }
        return data;
      });
    });
  }
  // A refusal: its status, the server's code ("too_fast", "busy", "rate_limited", "token", "form_token") and how
  // many seconds to wait before sending the same thing again (Retry-After).
  function failure(response, data) {
    var err = new Error(data.error || ("HTTP " + response.status));
    err.status = response.status;
    err.code = data.code || "";
    err.retryAfter = Number(data.retry_after || response.headers.get("Retry-After")) || 0;
    return err;
  }
  function later(err, tries) {  // how long to wait before trying again: what the server asked, else backing off
    return err.retryAfter ? err.retryAfter * 1000 : Math.min(30000, 1000 * Math.pow(2, tries));
  }
  function waitable(err) { return err.status === 429 || err.status === 503 || !err.status || err.status >= 500; }
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
  var fileInput = el("input", { type: "file", id: "rz-file", class: "file-input", accept: "image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain" });
  var attachLabel = el("label", { for: "rz-file", class: "attach", title: t.attach }, [
    icon("M16.5 6.5l-7.8 7.8a1.5 1.5 0 0 0 2.1 2.1l7.8-7.8a3 3 0 0 0-4.2-4.2l-7.8 7.8a4.5 4.5 0 0 0 6.4 6.4l7-7"),
    el("span", { class: "visually-hidden", text: t.attach })]);
  var composer = el("form", { class: "composer" }, [fileInput, attachLabel, input, sendButton]);
  var alertBox = el("p", { class: "alert", role: "alert", hidden: "" });
  var body = el("div", { class: "body" }, [log, typing]);
  var panel = el("div", { id: ids.panel, class: "panel", role: "dialog", "aria-modal": "true", "aria-labelledby": ids.title, hidden: "" },
                 [el("header", {}, [title, personButton, closeButton]), status, body, alertBox, composer]);
  var inviteText = el("button", { type: "button", class: "invite-text" });
  var inviteClose = el("button", { type: "button", class: "invite-close", "aria-label": t.dismiss, title: t.dismiss },
                       [icon("M6 6l12 12M18 6L6 18")]);
  var invite = el("div", { class: "invite", role: "status", "aria-label": t.invitation, hidden: "" }, [inviteText, inviteClose]);
  var frame = el("div", { class: "frame" }, [panel, invite, launcher]);
  root.appendChild(frame);

  // --- state ---------------------------------------------------------------------------------------------------
  var config = null, lastId = 0, after = 0, shown = {}, pending = {}, timer = null, isOpen = false, unread = 0;
  var lastState = { handed_over: false, agent: "", status: "" }, waitingSince = 0, lastRead = 0;

  function timeOf(iso) {
    try { return new Date(iso).toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" }); } catch (e) { return ""; }
  }
  function bubble(who, name, text, when, extraClass, files) {
    var meta = el("span", { class: "meta", text: name + (when ? " · " + timeOf(when) : "") });
    var textNode = el("p", { class: "text" });
    var names = (files || []).map(function (f) { return f.name; });
    if (names.indexOf(text) < 0) { linkify(textNode, text); }  // a file sent without a caption carries its name
    var node = el("div", { class: "line " + who + (extraClass ? " " + extraClass : "") }, [meta, textNode]);
    (files || []).forEach(function (f) { node.appendChild(fileView(f)); });
    return node;
  }
  function sizeText(bytes) {
    return bytes >= 1048576 ? (bytes / 1048576).toFixed(1) + " MB" : Math.max(1, Math.round(bytes / 1024)) + " KB";
  }
  function fileView(f) {
    var url = api + "files/" + encodeURIComponent(f.key) + "/";
    if (f.image) {
      var img = el("img", { src: url, alt: f.alt || f.name, loading: "lazy" });
      img.addEventListener("load", scrollDown);
      return el("a", { class: "file image", href: url, target: "_blank", rel: "noopener noreferrer" }, [img]);
    }
    return el("a", { class: "file", href: url, download: f.name, rel: "noopener noreferrer",
                     "aria-label": t.download.replace("{name}", f.name) + " (" + sizeText(f.size) + ")",
                     text: f.name + " · " + sizeText(f.size) });
  }
  function showAlert(text) {
    alertBox.textContent = text;
    alertBox.hidden = !text;
  }
  function scrollDown() { log.scrollTop = log.scrollHeight; }
  function system(text) { log.appendChild(el("p", { class: "system", text: text })); scrollDown(); }

  function renderLine(line) {
    if (shown[line.id]) { return; }
    shown[line.id] = true;
    lastId = Math.max(lastId, line.id);
    if (line.from === "visitor" && line.client_id && pending[line.client_id]) {
      var node = pending[line.client_id].node;
      if ((line.files || []).length) {  // the upload's bubble becomes the stored line with its file
        var stored1 = bubble("visitor", t.you, line.text, line.at, "", line.files);
        stored1.setAttribute("data-id", String(line.id));
        node.replaceWith(stored1);
      } else {
        node.classList.remove("pending");
        node.querySelector(".meta").textContent = t.you + " · " + timeOf(line.at);
      }
      delete pending[line.client_id];
      return;
    }
    var name = line.from === "visitor" ? t.you : (line.from === "bot" ? t.bot : (line.name || t.agent));
    var node2 = bubble(line.from, name, line.text, line.at, "", line.files);
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
    if (!state.agent && state.queue) { text += " " + t.queue.replace("{n}", state.queue.position).replace("{m}", state.queue.minutes); }
    showTyping(state.typing);
    showRating(state.rating);
    if (state.waiting || state.handed_over) { waitingSince = 0; }
    status.textContent = text;
    status.hidden = !text;
    personButton.hidden = !!state.handed_over;
    if (state.handed_over || state.status === "resolved" || state.status === "closed") {
      Array.prototype.forEach.call(log.querySelectorAll(".helped"), function (n) { n.remove(); });
    }
    lastState = state;
  }
  var agentTyping = "";
  function showTyping(name) {
    agentTyping = name || "";
    if (agentTyping) {
      typing.textContent = t.agentTyping.replace("{name}", agentTyping === "…" ? t.agent : agentTyping);
      typing.hidden = false;
    } else {
      typing.textContent = t.typing;
    }
  }

  // --- the satisfaction question once the chat has ended ---------------------------------------------------------
  var ratingBox = null;
  function showRating(rating) {
    if (!rating || rating.rating || stored.rated === rating.conversation) {
      if (ratingBox && rating && rating.rating) { ratingBox.remove(); ratingBox = null; }
      return;
    }
    if (ratingBox) { return; }
    var chosen = 0;
    var error = el("p", { class: "error", role: "alert", hidden: "" });
    var buttons = [1, 2, 3, 4, 5].map(function (n) {
      var b = el("button", { type: "button", class: "star", "aria-pressed": "false", "aria-label": t.rate.replace("{n}", n), text: String(n) });
      b.addEventListener("click", function () {
        chosen = n;
        error.hidden = true;
        buttons.forEach(function (other, i) { other.setAttribute("aria-pressed", i + 1 === n ? "true" : "false"); });
      });
      return b;
    });
    var comment = el("textarea", { id: "rz-rate-comment", rows: "2", maxlength: "2000" });
    var submit = el("button", { type: "submit", text: t.rateSend });
    var question = el("p", { id: "rz-rate-q", text: t.rateQuestion });
    ratingBox = el("form", { class: "form rating", "aria-labelledby": "rz-rate-q" }, [
      question, el("div", { class: "stars", role: "group", "aria-labelledby": "rz-rate-q" }, buttons),
      el("div", { class: "field" }, [el("label", { for: "rz-rate-comment", text: t.rateComment }), comment]), error, submit]);
    ratingBox.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!chosen) { error.textContent = t.chooseRating; error.hidden = false; buttons[0].focus(); return; }
      call("POST", "rating/", { conversation: rating.conversation, rating: chosen, comment: comment.value.trim() })
        .then(function () {
          stored.rated = rating.conversation; save(stored);
          ratingBox.remove(); ratingBox = null; system(t.rateThanks);
          (composer.hidden ? closeButton : input).focus();  // the form is gone: focus stays in the dialog
        })
        .catch(function (err) { error.textContent = err.message; error.hidden = false; });
    });
    log.appendChild(ratingBox);
    scrollDown();
  }

  function showBadge() {
    badge.textContent = unread ? String(unread) : "";
    badge.hidden = !unread;
    launcher.setAttribute("aria-label", unread ? t.open + " (" + unread + " " + t.unread + ")" : t.open);
  }

  // --- polling (the same idea as the inbox: ask for what is newer than the last id) -------------------------
  function poll() {
    if (!stored.token) { return Promise.resolve(); }
    return call("GET", "messages/?after=" + after).then(apply).catch(function (err) {
      if (err.status === 401) { delete stored.token; save(stored); }  // the server no longer knows this token
      /* otherwise offline for a moment: the next poll catches up */
    });
  }
  function apply(data) {
    if (data.token) { stored.token = data.token; save(stored); }  // renewed while the visitor keeps chatting
    (data.messages || []).forEach(renderLine);
    // the server's cursor stays before a reply that is not delivered yet; lines already shown are skipped
    if (typeof data.cursor === "number") { after = data.cursor; } else { after = lastId; }
    showState(data.state);
    typing.hidden = !(agentTyping || (waitingSince && Date.now() - waitingSince < 15000 && !lastState.handed_over));
    showBadge();
    markRead();
  }
  // While the live stream is connected, polling only runs as a slow safety net.
  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(function () { poll().then(schedule); }, live ? 30000 : (isOpen ? 2000 : 15000));
  }

  // --- the live stream (Server-Sent Events); polling takes over whenever it is not there ---------------------
  var source = null, live = false, streamToken = "";
  function connect() {
    if (!config || !config.live || !window.EventSource || !stored.token) { return; }
    if (source && streamToken === stored.token) { return; }
    if (source) { source.close(); }
    streamToken = stored.token;
    source = new window.EventSource(api + "stream/?token=" + encodeURIComponent(stored.token) + "&after=" + after);
    source.addEventListener("open", function () { live = true; schedule(); });
    source.addEventListener("update", function (event) {
      try { apply(JSON.parse(event.data)); } catch (e) { /* a broken event: the next one or a poll catches up */ }
    });
    source.addEventListener("typing", function (event) {
      try { showTyping(JSON.parse(event.data).typing); } catch (e) { return; }
      typing.hidden = !agentTyping;
    });
    source.addEventListener("error", function () {
      live = false;  // EventSource reconnects by itself (with Last-Event-ID); meanwhile poll
      if (source.readyState === 2) { source = null; window.setTimeout(connect, 5000); }
      schedule();
    });
  }

  // --- telling the agent that the visitor is typing (at most every 3 s while keys are pressed) ----------------
  var typingSent = 0;
  function noteTyping() {
    if (!stored.token || !lastId) { return; }
    var empty = !input.value.trim();
    if (empty && !typingSent) { return; }
    if (!empty && Date.now() - typingSent < 3000) { return; }
    typingSent = empty ? 0 : Date.now();
    call("POST", "typing/", empty ? { typing: false } : { text: input.value.slice(0, 2000) }).catch(function () { return; });
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
        Array.prototype.forEach.call(log.querySelectorAll(".line:not(.greeting):not(.pending), .helped, .system"), function (n) { n.remove(); });
        shown = {}; lastId = 0; after = 0; lastRead = 0;
      }
      stored.token = data.token;
      stored.visitor_id = data.visitor_id;
      save(stored);
      connect();
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
      .then(function (data) { renderLine(data.message); typingSent = 0; if (!live) { poll(); } })
      .catch(function (err) {
        if (err.status === 401 && item.tries < 3) {
          delete stored.token; save(stored);  // the session expired: a new one, and the same line again
        } else if (!waitable(err)) {
          item.node.querySelector(".meta").textContent = err.message;
          item.node.classList.add("failed");
          delete pending[clientId];
          return;
        }
        item.node.querySelector(".meta").textContent = err.status === 503 ? t.busy : t.retrying;
        window.setTimeout(function () { deliver(clientId); }, err.status === 401 ? 0 : later(err, item.tries));
      });
  }

  // --- files: checked here first (size, type) so the visitor learns at once; the server checks again ----------
  function upload(file) {
    var limits = (config && config.upload) || { max_bytes: 0, types: [] };
    showAlert("");
    if (limits.types.indexOf(file.type) < 0) { showAlert(t.fileType); return; }
    if (file.size > limits.max_bytes) { showAlert(t.fileTooBig.replace("{size}", sizeText(limits.max_bytes))); return; }
    var clientId = newId();
    var node = bubble("visitor", t.uploading, file.name, "", "pending");
    log.appendChild(node);
    scrollDown();
    pending[clientId] = { node: node, text: file.name, tries: 0 };
    waitingSince = Date.now();
    sendFile(file, clientId, node, limits);
  }
  function sendFile(file, clientId, node, limits) {
    var item = pending[clientId];
    item.tries += 1;
    ensureSession().then(function () {
      var data = new FormData();
      data.append("file", file);
      data.append("client_id", clientId);
      data.append("page", location.href);
      return fetch(api + "upload/", { method: "POST", body: data, headers: { "X-Resonanz-Chat": stored.token },
                                      credentials: "omit", mode: "cors", cache: "no-store" });
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var err = failure(response, data);
          if (response.status === 413) { err.message = t.fileTooBig.replace("{size}", sizeText(limits.max_bytes)); }
          if (response.status === 415) { err.message = t.fileType; }
          throw err;
        }
        renderLine(data.message);
        if (!live) { poll(); }
      });
    }).catch(function (err) {
      if (item.tries < 6 && (err.status === 401 || err.status === 429 || err.status === 503)) {  // the file stays
        if (err.status === 401) { delete stored.token; save(stored); }
        node.querySelector(".meta").textContent = err.status === 503 ? t.busy : t.retrying;
        window.setTimeout(function () { sendFile(file, clientId, node, limits); }, err.status === 401 ? 0 : later(err, item.tries));
        return;
      }
      delete pending[clientId];
      node.remove();
      showAlert(err.message || t.error);
    });
  }
  fileInput.addEventListener("change", function () {
    var file = fileInput.files && fileInput.files[0];
    fileInput.value = "";
    if (file) { upload(file); }
  });

  // --- proactive invitations: the channel's rules, at most once per period, never after the visitor closed it --
  function pattern(glob) {
    return new RegExp("^" + glob.split("*").map(function (part) { return part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"); }).join(".*") + "$");
  }
  function invitationRule() {
    var period = (config.invitation_period_hours || 24) * 3600 * 1000, now2 = Date.now();
    if (stored.open || stored.token && lastId) { return null; }  // already chatting
    if (stored.closedAt && now2 - stored.closedAt < period) { return null; }
    if (stored.invitedAt && now2 - stored.invitedAt < period) { return null; }
    var rules = (config.invitations || []).filter(function (rule) {
      return pattern(rule.url || "*").test(location.href) && (stored.pages || []).length >= (rule.min_pages || 0) &&
        (!rule.returning || (stored.visits || 0) > 1);
    });
    return rules[0] || null;
  }
  var invitedWith = "";
  function scheduleInvitation() {
    var rule = invitationRule();
    if (!rule) { return; }
    window.setTimeout(function () {
      if (isOpen || !invitationRule()) { return; }
      invitedWith = rule.message;
      inviteText.textContent = rule.message;
      invite.hidden = false;
      stored.invitedAt = Date.now(); save(stored);
    }, (rule.after_seconds || 0) * 1000);
  }
  inviteText.addEventListener("click", function () {
    invite.hidden = true;
    if (invitedWith) { log.appendChild(el("p", { class: "line bot greeting", text: invitedWith })); }
    open();
  });
  inviteClose.addEventListener("click", function () {
    invite.hidden = true;
    stored.closedAt = Date.now(); save(stored);
    launcher.focus();
  });

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
      }).catch(function (err) { error.textContent = err.status === 503 ? t.busy : err.message; error.hidden = false; });
    });
  }
  function leaveForm() {
    var fields = [field("name", t.name, "text", false), field("email", t.email, "email", true), field("text", t.message, "textarea", true)];
    return form(t.offline, fields, t.leave, function (values, f, error) {
      values.client_id = newId();
      values.page = location.href;
      leave(values, f, error, 0);
    });
  }
  // The same message (one client id) again after a wait the server asked for, or with a fresh form token
  // once the page was open for a day; the text stays in the form until it is stored.
  function leave(values, f, error, tries) {
    values.form_token = config.form_token || "";
    call("POST", "leave-message/", values).then(function () { f.remove(); system(t.left); }).catch(function (err) {
      if ((err.status === 429 || err.status === 503) && tries < 6) {
        error.textContent = err.status === 503 ? t.busy : t.retrying; error.hidden = false;
        window.setTimeout(function () { leave(values, f, error, tries + 1); }, later(err, tries + 1));
        return;
      }
      if (err.code === "form_token" && tries < 1) {
        call("GET", "config/?lang=" + lang).then(function (data) {
          config.form_token = data.form_token; leave(values, f, error, tries + 1);
        }).catch(function () { error.textContent = t.error; error.hidden = false; });
        return;
      }
      error.textContent = err.message; error.hidden = false;
    });
  }

  // --- opening and closing: the WAI-ARIA dialog pattern --------------------------------------------------------
  function focusables() {
    return Array.prototype.filter.call(panel.querySelectorAll("button, textarea, input, a[href], [tabindex='0']"),
      function (n) { return !n.hidden && !n.closest("[hidden]") && !n.disabled; });
  }
  function open() {
    isOpen = true;
    invite.hidden = true;
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    frame.classList.add("is-open");
    unread = 0;
    showBadge();
    var first = panel.querySelector(".form input, .form textarea") || (composer.hidden ? closeButton : input);
    first.focus();
    stored.open = true; save(stored);
    if (!stored.token && !(config.prechat || []).length && config.open) {
      ensureSession().then(poll).then(schedule).catch(function (err) { system(err.status === 503 ? t.busy : t.error); });
    } else { poll().then(schedule); connect(); }
  }
  function close() {
    isOpen = false;
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    frame.classList.remove("is-open");
    stored.open = false; stored.closedAt = Date.now(); save(stored);
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
  input.addEventListener("input", noteTyping);
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
    if (!(data.upload && data.upload.max_bytes > 0)) { attachLabel.hidden = true; }
    if (!data.open && !stored.token) {
      composer.hidden = true; personButton.hidden = true; log.appendChild(leaveForm());
    } else if ((data.prechat || []).length && !stored.token) {
      composer.hidden = true; personButton.hidden = true; log.appendChild(prechatForm());
    }
    document.body.appendChild(host);
    if (stored.open) { open(); } else if (stored.token) { poll().then(schedule); connect(); }
    save(stored);
    scheduleInvitation();
  }).catch(function () { /* not allowed on this site or unreachable: the page stays as it was */ });
})();
