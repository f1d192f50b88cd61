/* Knowledge editor: live preview rendered (and sanitized) by the server. A file, not inline: the CSP allows no inline script. */
(function () {
  "use strict";
  // Live preview: the server renders (and sanitizes) the Markdown, a moment after typing stops.
  var form = document.getElementById("kb-editor"), out = document.getElementById("kb-preview");
  if (!form || !out || !window.fetch) return;
  var body = form.querySelector("textarea[name=body]"), timer = null;
  var token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  body.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var data = new FormData();
      data.append("body", body.value);
      fetch(form.dataset.preview, { method: "POST", body: data, credentials: "same-origin", headers: { "X-CSRFToken": token } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) { if (html !== null) out.innerHTML = html; })
        .catch(function () {});
    }, 400);
  });
})();
