// The dashboard's driving terms read a sample of texts (the slow part of the page); they load after the
// page so its charts show at once. Without JavaScript the link opens them as a page of their own.
(function () {
  "use strict";
  document.querySelectorAll("[data-load]").forEach(function (box) {
    fetch(box.getAttribute("data-load"), { headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.text(); })
      .then(function (html) { box.innerHTML = html; box.setAttribute("data-loaded", "1"); })
      .catch(function () { box.setAttribute("data-loaded", "error"); });
  });
})();
