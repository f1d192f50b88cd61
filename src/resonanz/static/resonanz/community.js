// Similar questions (ask form) or ideas (idea form) and help-center articles while a member types a title.
(function () {
  "use strict";
  function ready(fn) { if (document.readyState !== "loading") fn(); else document.addEventListener("DOMContentLoaded", fn); }
  function fill(list, items) {
    list.textContent = "";
    items.forEach(function (item) {
      var li = document.createElement("li"), a = document.createElement("a");
      a.href = item.url; a.textContent = item.title; a.target = "_blank"; a.rel = "noopener";
      li.appendChild(a); list.appendChild(li);
    });
  }
  ready(function () {
    var form = document.querySelector("form[data-similar]");
    if (!form) return;
    var title = form.querySelector("input[name=title]"), box = document.getElementById("similar");
    if (!title || !box) return;
    // the idea form asks for similar ideas (possible duplicates), the ask form for similar questions
    var kind = form.dataset.ideas ? "ideas" : "questions";
    var timer = null, last = "";
    title.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var q = title.value.trim();
        if (q.length < 3 || q === last) { if (q.length < 3) box.hidden = true; return; }
        last = q;
        fetch(form.dataset.similar + "?kind=" + kind + "&q=" + encodeURIComponent(q),
              { headers: { "Accept": "application/json" } })
          .then(function (r) { return r.ok ? r.json() : {}; })
          .then(function (data) {
            var found = data[kind] || [], articles = data.articles || [];
            fill(document.getElementById("similar-questions"), found);
            fill(document.getElementById("similar-articles"), articles);
            var head = document.getElementById("similar-articles-head");
            if (head) head.hidden = !articles.length;
            box.hidden = !(found.length || articles.length);
          })
          .catch(function () { box.hidden = true; });
      }, 250);
    });
  });
})();
