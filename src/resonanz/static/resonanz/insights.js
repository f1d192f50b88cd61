// The dashboard's driving terms and top authors read the period's items (the slow parts of the page); they
// load after the page so its charts show at once. Without JavaScript the links open them as pages of their own.
(function () {
  "use strict";
  document.querySelectorAll("[data-load]").forEach(function (box) {
    fetch(box.getAttribute("data-load"), { headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.text(); })
      .then(function (html) { box.innerHTML = html; box.setAttribute("data-loaded", "1"); })
      .catch(function () { box.setAttribute("data-loaded", "error"); });
  });

  // PNG export: the server-rendered SVG (its colours are attributes, not CSS) drawn on a canvas at twice its
  // size on white, then saved. The CSV links next to it carry the data.
  function savePng(svg, name) {
    var box = svg.viewBox.baseVal;
    var scale = 2;
    var image = new Image();
    image.onload = function () {
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(box.width * scale);
      canvas.height = Math.round(box.height * scale);
      var ctx = canvas.getContext("2d");
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
      canvas.toBlob(function (blob) {
        var link = document.createElement("a");
        link.href = URL.createObjectURL(blob);
        link.download = name + ".png";
        document.body.appendChild(link);
        link.click();
        link.remove();
        setTimeout(function () { URL.revokeObjectURL(link.href); }, 5000);
      }, "image/png");
    };
    image.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(new XMLSerializer().serializeToString(svg));
  }

  var grid = document.querySelector("[data-png-label]");
  if (!grid) { return; }
  grid.querySelectorAll(".chart-card").forEach(function (card) {
    card.querySelectorAll(".chartbox svg.chart").forEach(function (svg, i) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "png-export small";
      button.textContent = "PNG";
      button.title = grid.getAttribute("data-png-label");
      button.setAttribute("aria-label", button.title);
      var name = "resonanz-" + card.id + (i ? "-" + (i + 1) : "");
      button.addEventListener("click", function () { savePng(svg, name); });
      svg.parentNode.insertAdjacentElement("afterend", button);
    });
  });
})();
