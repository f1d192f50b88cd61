// Similar questions and help-center articles while a member types a title (ask and idea forms).
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
    if (!title) return;
    if (!box) {  // the idea form: build the same box under the title
      box = document.createElement("div"); box.id = "similar"; box.className = "cm-similar"; box.hidden = true;
      box.innerHTML = '<ul id="similar-questions"></ul><ul id="similar-articles"></ul>';
      title.parentNode.insertAdjacentElement("afterend", box);
    }
    var timer = null, last = "";
    title.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var q = title.value.trim();
        if (q.length < 3 || q === last) { if (q.length < 3) box.hidden = true; return; }
        last = q;
        fetch(form.dataset.similar + "?q=" + encodeURIComponent(q), { headers: { "Accept": "application/json" } })
          .then(function (r) { return r.ok ? r.json() : { questions: [], articles: [] }; })
          .then(function (data) {
            fill(document.getElementById("similar-questions"), data.questions);
            fill(document.getElementById("similar-articles"), data.articles);
            var head = document.getElementById("similar-articles-head");
            if (head) head.hidden = !data.articles.length;
            box.hidden = !(data.questions.length || data.articles.length);
          })
          .catch(function () { box.hidden = true; });
      }, 250);
    });
  });
})();
