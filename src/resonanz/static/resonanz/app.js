/* Resonanz agent UI: live updates by polling the event log, and keyboard shortcuts. No build step. */
(function () {
  "use strict";
  var POLL_MS = 1000;

  function poll(el, onChange) {
    var last = parseInt(el.dataset.lastEvent || "0", 10);
    var busy = false;
    function tick() {
      if (busy || document.hidden) return;
      busy = true;
      fetch(el.dataset.updates + "?after=" + last, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (data && data.last > last) { last = data.last; return onChange(data); }
        })
        .catch(function () { /* offline for a moment: try again on the next tick */ })
        .finally(function () { busy = false; });
    }
    setInterval(tick, POLL_MS);
  }

  // Inbox: re-render the list when any conversation changed.
  var inbox = document.getElementById("inbox");
  if (inbox) {
    poll(inbox, function (data) {
      return fetch(inbox.dataset.partial, { credentials: "same-origin" }).then(function (r) { return r.text(); })
        .then(function (html) {
          var selected = currentRow() && currentRow().dataset.id;
          inbox.innerHTML = html;
          data.conversations.forEach(function (id) {
            var row = inbox.querySelector('.row[data-id="' + id + '"]');
            if (row) row.classList.add("fresh");
          });
          if (selected) select(inbox.querySelector('.row[data-id="' + selected + '"]'));
        });
    });
  }

  // Conversation: new messages are appended; what the worker sets a moment later (analysis, suggestions,
  // SLA, team, assignee, history) replaces its panel, unless the agent is typing in it or has changed it.
  var thread = document.getElementById("messages");
  var PANELS = ["#conversation-meta", "#automation-panel", "#suggestions", "#conversation-card", "#history"];
  function busyWith(node) {
    return node.contains(document.activeElement) || node.dataset.dirty === "1" || !!node.querySelector("details[open]");
  }
  document.addEventListener("input", function (e) {
    var card = e.target.closest && e.target.closest("#conversation-card");
    if (card) card.dataset.dirty = "1";
  });
  if (thread) {
    poll(thread, function (data) {
      var id = parseInt(thread.dataset.conversation, 10);
      if (data.conversations.indexOf(id) < 0) return;
      return fetch(thread.dataset.fetch, { credentials: "same-origin", headers: { "X-Resonanz-Live": "1" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (!html) return;
          var doc = new DOMParser().parseFromString(html, "text/html");
          Array.prototype.forEach.call(doc.querySelectorAll("#messages .message"), function (m) {
            var old = document.getElementById(m.id);
            if (!old) {
              m.classList.add("fresh");
              thread.appendChild(document.importNode(m, true));
            } else if (old.innerHTML !== m.innerHTML && !busyWith(old)) {
              old.replaceWith(document.importNode(m, true));
            }
            thread.dataset.lastMessage = Math.max(parseInt(thread.dataset.lastMessage, 10), parseInt(m.dataset.id, 10));
          });
          PANELS.forEach(function (sel) {
            var now = document.querySelector(sel), next = doc.querySelector(sel);
            if (now && next && now.outerHTML !== next.outerHTML && !busyWith(now)) now.replaceWith(document.importNode(next, true));
          });
          document.dispatchEvent(new CustomEvent("resonanz:updated"));
        });
    });
  }

  // Phone: the filters fold away behind one button; the search stays visible.
  document.addEventListener("click", function (e) {
    var toggle = e.target.closest(".filter-toggle");
    if (!toggle) return;
    var panel = document.getElementById(toggle.getAttribute("aria-controls"));
    toggle.setAttribute("aria-expanded", String(panel.classList.toggle("open")));
  });

  // Keyboard: j/k move, Enter/o open, / search, r reply, Ctrl+Enter send, Esc leave a field, ? help.
  function rows() { return Array.prototype.slice.call(document.querySelectorAll(".conversation-list .row")); }
  function currentRow() { return document.querySelector(".conversation-list .row.selected"); }
  function select(row) {
    rows().forEach(function (r) { r.classList.remove("selected"); });
    if (row) { row.classList.add("selected"); row.scrollIntoView({ block: "nearest" }); }
  }
  function move(delta) {
    var all = rows(); if (!all.length) return;
    var i = all.indexOf(currentRow());
    select(all[Math.max(0, Math.min(all.length - 1, i + delta))]);
  }
  function help() {
    var old = document.getElementById("help-overlay");
    if (old) { old.remove(); return; }
    var text = document.getElementById("keyboard-help");
    if (!text) return;
    var o = document.createElement("div");
    o.id = "help-overlay";
    o.setAttribute("role", "dialog");
    o.appendChild(text.content.cloneNode(true));
    o.addEventListener("click", function () { o.remove(); });
    document.body.appendChild(o);
  }
  document.addEventListener("keydown", function (e) {
    var t = e.target, typing = /INPUT|TEXTAREA|SELECT/.test(t.tagName);
    if (typing) {
      if (e.key === "Escape") t.blur();
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && t.form) { e.preventDefault(); t.form.submit(); }
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var search = document.getElementById("search"), reply = document.getElementById("reply-text");
    switch (e.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "Enter": case "o": if (currentRow()) { window.location = currentRow().querySelector("a").href; } break;
      case "/": if (search) { e.preventDefault(); search.focus(); } break;
      case "r": if (reply) { e.preventDefault(); reply.focus(); } break;
      case "u": if (thread) window.location = "/inbox/"; break;
      case "?": help(); break;
      case "M": case "S":
        var link = document.querySelector('a[data-key="' + e.key + '"]');
        if (link) { e.preventDefault(); window.location = link.href; }
        break;
      case "Escape": var o = document.getElementById("help-overlay"); if (o) o.remove(); break;
    }
  });

  // Getting started: while the demo data loads, the page shows the count and refreshes itself.
  var demoLoading = document.getElementById("demo-loading");
  if (demoLoading) setTimeout(function () { window.location.reload(); }, +demoLoading.dataset.reload || 5000);

  // Channel form: show only the chosen kind's connect fields; tick "sign replies" for kinds that sign.
  var kindSelect = document.querySelector('form select[name="kind"]');
  if (kindSelect) {
    var form = kindSelect.form;
    var showKind = function (changed) {
      Array.prototype.forEach.call(form.querySelectorAll("[data-kind]"), function (field) {
        var box = field.closest("div");
        if (box) box.hidden = field.dataset.kind !== kindSelect.value;
      });
      var sign = form.querySelector('input[name="sign_replies"]');
      if (changed && sign) sign.checked = (kindSelect.dataset.signs || "").split(" ").indexOf(kindSelect.value) >= 0;
    };
    kindSelect.addEventListener("change", function () { showKind(true); });
    showKind(false);
  }
})();

/* Suggestions: one click puts the text into the reply box and tells the ranking it was used. */
(function () {
  "use strict";
  function csrf() {
    var m = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  function feedback(button, action) {
    var box = button.closest(".suggestion");
    if (!button.dataset.feedback || !box || !box.dataset.article) return;
    var body = new URLSearchParams({ article: box.dataset.article, action: action });
    fetch(button.dataset.feedback, { method: "POST", credentials: "same-origin", body: body,
      headers: { "X-CSRFToken": csrf(), "Accept": "application/json" } });
  }
  document.addEventListener("click", function (e) {
    var use = e.target.closest(".use-suggestion"), dismiss = e.target.closest(".dismiss-suggestion");
    var reply = document.getElementById("reply-text");
    if (use && reply) {
      reply.value = reply.value ? reply.value + "\n\n" + use.dataset.text : use.dataset.text;
      reply.focus();
      feedback(use, "used");
    }
    if (dismiss) {
      feedback(dismiss, "dismissed");
      dismiss.closest(".suggestion").remove();
    }
  });

  // Remote images in a message arrive blocked (a sender would learn when we read it); the agent may load them.
  document.addEventListener("click", function (e) {
    var load = e.target.closest(".load-images");
    if (!load) return;
    var message = load.closest(".message");
    Array.prototype.forEach.call(message.querySelectorAll("img[data-remote-src]"), function (img) {
      img.src = img.getAttribute("data-remote-src");
      img.removeAttribute("data-remote-src");
    });
    load.remove();
  });

  // Forms that ask before they submit (delete a rule): no inline handlers, the CSP forbids them.
  document.addEventListener("submit", function (e) {
    var form = e.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) e.preventDefault();
  });
})();

/* Macros: m searches, Enter inserts the filled-in text into the reply box (status, tags, team are set by the
   server). Bulk actions: tick rows (or x on the selected row) and apply one change to all of them. */
(function () {
  "use strict";
  function csrf() {
    var m = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  var form = document.getElementById("macro-form");
  if (form) {
    var search = document.getElementById("macro-search"), pick = document.getElementById("macro-select");
    search.addEventListener("input", function () {
      var q = search.value.toLowerCase().trim(), first = null;
      Array.prototype.forEach.call(pick.options, function (o) {
        var hit = !q || (o.dataset.search || "").indexOf(q) >= 0;
        o.hidden = !hit;
        if (hit && !first) first = o;
      });
      if (first) pick.value = first.value;
    });
    search.addEventListener("keydown", function (e) {
      if (e.key === "Enter") { e.preventDefault(); apply(); }
    });
    form.addEventListener("submit", function (e) { e.preventDefault(); apply(); });
    function apply() {
      if (!pick.value) return;
      fetch(form.action, { method: "POST", credentials: "same-origin", body: new FormData(form),
        headers: { "Accept": "application/json", "X-CSRFToken": csrf() } })
        .then(function (r) { return r.json().then(function (d) { return { ok: r.ok, data: d }; }); })
        .then(function (res) {
          if (!res.ok) return;
          var reply = document.getElementById("reply-text");
          reply.value = reply.value ? reply.value + "\n\n" + res.data.text : res.data.text;
          search.value = "";
          reply.focus();
        });
    }
    document.addEventListener("keydown", function (e) {
      var t = e.target;
      if (/INPUT|TEXTAREA|SELECT/.test(t.tagName) || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === "m") { e.preventDefault(); search.focus(); }
      if (e.key === "n") { var note = document.getElementById("note-text"); if (note) { e.preventDefault(); note.focus(); } }
    });
  }

  var bulk = document.getElementById("bulk-form"), inbox = document.getElementById("inbox");
  if (bulk && inbox) {
    var chosen = {};
    function refresh() {
      Array.prototype.forEach.call(inbox.querySelectorAll(".pick"), function (box) { box.checked = !!chosen[box.value]; });
      var n = Object.keys(chosen).length;
      document.getElementById("bulk-count").textContent = n;
      bulk.hidden = n === 0;
      // rows re-rendered by the live list lose their boxes: keep the chosen ones as hidden fields
      Array.prototype.forEach.call(bulk.querySelectorAll("input.kept"), function (i) { i.remove(); });
      Object.keys(chosen).forEach(function (id) {
        if (!inbox.querySelector('.pick[value="' + id + '"]')) {
          var i = document.createElement("input");
          i.type = "hidden"; i.name = "conversations"; i.value = id; i.className = "kept";
          bulk.appendChild(i);
        }
      });
    }
    inbox.addEventListener("change", function (e) {
      if (!e.target.classList.contains("pick")) return;
      if (e.target.checked) chosen[e.target.value] = true; else delete chosen[e.target.value];
      refresh();
    });
    new MutationObserver(refresh).observe(inbox, { childList: true });
    document.getElementById("bulk-clear").addEventListener("click", function () { chosen = {}; refresh(); });
    document.addEventListener("keydown", function (e) {
      var t = e.target;
      if (/INPUT|TEXTAREA|SELECT/.test(t.tagName) || e.ctrlKey || e.metaKey || e.altKey || e.key !== "x") return;
      var row = document.querySelector(".conversation-list .row.selected");
      var box = row && row.querySelector(".pick");
      if (!box) return;
      box.checked = !box.checked;
      box.dispatchEvent(new Event("change", { bubbles: true }));
    });
  }
})();

/* Collision detection: the open conversation tells the server every few seconds that this agent is here
   (and writing, while the reply box has text and was typed in lately) and shows who else is. */
(function () {
  "use strict";
  var box = document.getElementById("presence"), reply = document.getElementById("reply-text");
  if (!box) return;
  var lastTyped = 0;
  if (reply) reply.addEventListener("input", function () { lastTyped = Date.now(); });
  function csrf() {
    var m = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  function tick() {
    if (document.hidden) return;
    var typing = reply && reply.value.trim() && Date.now() - lastTyped < 15000 ? "1" : "0";
    fetch(box.dataset.url, { method: "POST", credentials: "same-origin", body: new URLSearchParams({ typing: typing }),
      headers: { "X-CSRFToken": csrf(), "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        box.textContent = "";
        data.others.forEach(function (o) {
          var line = document.createElement("span");
          line.className = o.typing ? "badge prio-3" : "badge";
          line.textContent = o.typing ? o.name + " " + box.dataset.typing : box.dataset.viewing + " " + o.name;
          box.appendChild(line);
        });
        if (data.customer) {
          var who = document.createElement("span");
          who.className = "badge prio-2 customer-typing";
          who.textContent = box.dataset.customerTyping + (data.customer.preview ? ": " + data.customer.preview : "");
          box.appendChild(who);
        }
        box.hidden = !data.others.length && !data.customer;
      })
      .catch(function () { /* offline for a moment */ });
  }
  tick();
  setInterval(tick, box.dataset.chat ? 2000 : 4000);
})();
