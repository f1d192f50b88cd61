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

  // Conversation: append new messages of this conversation.
  var thread = document.getElementById("messages");
  if (thread) {
    poll(thread, function (data) {
      var id = parseInt(thread.dataset.conversation, 10);
      if (data.conversations.indexOf(id) < 0) return;
      return fetch(thread.dataset.fetch + "?after=" + thread.dataset.lastMessage, { credentials: "same-origin" })
        .then(function (r) { return r.text(); })
        .then(function (html) {
          var box = document.createElement("div");
          box.innerHTML = html;
          Array.prototype.forEach.call(box.querySelectorAll(".message"), function (m) {
            if (!document.getElementById(m.id)) { m.classList.add("fresh"); thread.appendChild(m); }
            thread.dataset.lastMessage = Math.max(parseInt(thread.dataset.lastMessage, 10), parseInt(m.dataset.id, 10));
          });
        });
    });
  }

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
    var o = document.createElement("div");
    o.id = "help-overlay";
    o.innerHTML = '<div class="card"><h2>Keyboard</h2><p><kbd>j</kbd>/<kbd>k</kbd> next / previous · <kbd>Enter</kbd> open · ' +
      '<kbd>/</kbd> search · <kbd>r</kbd> reply · <kbd>Ctrl</kbd>+<kbd>Enter</kbd> send · <kbd>u</kbd> back to the inbox · <kbd>Esc</kbd> close</p></div>';
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
      case "Escape": var o = document.getElementById("help-overlay"); if (o) o.remove(); break;
    }
  });
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
