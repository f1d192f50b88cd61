/* Files attached to a reply (the desk) or to a message (the public contact form, a box with class "file-box"):
   the file button and dropping files on the form fill one list, checked here against the server's limits
   (type, size, count, total) so a person learns at once what cannot go out. The server checks again; this
   only saves a round trip (and keeps a too large upload from being sent at all). */
(function () {
  "use strict";
  var box = document.getElementById("reply-files") || document.querySelector(".file-box");
  var form = box && box.closest("form");
  if (!box || !form || typeof DataTransfer === "undefined") return;
  var input = box.querySelector("input[type=file]"), list = box.querySelector("ul");
  var error = box.querySelector(".file-error");
  var maxFile = +box.dataset.maxFile, maxTotal = +box.dataset.maxTotal, maxFiles = +box.dataset.maxFiles;
  var extensions = box.dataset.extensions.split(",");
  var kept = [];

  function say(template, name) { return template.replace("{name}", name); }
  function size(n) { return n >= 1048576 ? (n / 1048576).toFixed(1) + " MB" : Math.max(1, Math.round(n / 1024)) + " KB"; }

  function show() {
    var dt = new DataTransfer();
    kept.forEach(function (f) { dt.items.add(f); });
    input.files = dt.files;
    while (list.firstChild) list.removeChild(list.firstChild);
    kept.forEach(function (f, i) {
      var li = document.createElement("li"), remove = document.createElement("button");
      li.textContent = f.name + " · " + size(f.size) + " ";
      remove.type = "button";
      remove.className = "linkish remove-file";
      remove.textContent = box.dataset.remove;
      remove.setAttribute("aria-label", box.dataset.remove + " " + f.name);
      remove.addEventListener("click", function () { kept.splice(i, 1); show(); input.focus(); });
      li.appendChild(remove);
      list.appendChild(li);
    });
  }

  function add(files) {
    var problems = [], total = kept.reduce(function (sum, f) { return sum + f.size; }, 0);
    Array.prototype.forEach.call(files, function (f) {
      var ext = f.name.indexOf(".") >= 0 ? f.name.split(".").pop().toLowerCase() : "";
      if (extensions.indexOf(ext) < 0) problems.push(say(box.dataset.wrongType, f.name));
      else if (f.size > maxFile) problems.push(say(box.dataset.tooBig, f.name));
      else if (kept.length >= maxFiles) problems.push(box.dataset.tooMany);
      else if (total + f.size > maxTotal) problems.push(box.dataset.tooMuch);
      else { kept.push(f); total += f.size; }
    });
    error.hidden = !problems.length;
    error.textContent = problems.filter(function (p, i) { return problems.indexOf(p) === i; }).join(" ");
    show();
  }

  input.addEventListener("change", function () {
    var chosen = Array.prototype.slice.call(input.files);
    add(chosen.filter(function (f) { return kept.indexOf(f) < 0; }));
  });
  ["dragenter", "dragover"].forEach(function (name) {
    form.addEventListener(name, function (e) {
      if (e.dataTransfer && Array.prototype.indexOf.call(e.dataTransfer.types, "Files") >= 0) {
        e.preventDefault();
        form.classList.add("dropping");
      }
    });
  });
  ["dragleave", "drop"].forEach(function (name) {
    form.addEventListener(name, function () { form.classList.remove("dropping"); });
  });
  form.addEventListener("drop", function (e) {
    if (!e.dataTransfer || !e.dataTransfer.files.length) return;
    e.preventDefault();
    add(e.dataTransfer.files);
  });
})();
