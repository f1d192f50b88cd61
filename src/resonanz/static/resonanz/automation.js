/* Automation: the rule editor (conditions with one level of AND/OR groups, actions), and the guideline
   check before a reply is sent. Plain JS; without it the JSON fields of the rule form still work. */
(function () {
  "use strict";
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") e.textContent = attrs[k]; else if (k.slice(0, 2) === "on") e.addEventListener(k.slice(2), attrs[k]);
      else e.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }
  function select(options, value, cls) {
    var s = el("select", {"class": cls || ""});
    options.forEach(function (o) {
      var opt = el("option", {value: o[0], text: o[1]});
      if (String(o[0]) === String(value)) opt.selected = true;
      s.appendChild(opt);
    });
    return s;
  }

  /* --- rule editor --- */
  var form = document.getElementById("rule-form");
  if (form) {
    var O = JSON.parse(document.getElementById("rule-options").textContent);
    var L = JSON.parse(document.getElementById("rule-labels").textContent);
    var condField = form.querySelector("[name=conditions]"), actField = form.querySelector("[name=actions]");
    var fieldsByName = {};
    O.fields.forEach(function (f) { fieldsByName[f.name] = f; });
    var condBox = document.getElementById("conditions-editor"), actBox = document.getElementById("actions-editor");
    var conditions, actions;
    try { conditions = JSON.parse(condField.value || "{}"); actions = JSON.parse(actField.value || "[]"); }
    catch (e) { return; }
    if (!conditions.all && !conditions.any) conditions = {all: []};
    function depth(n) { var k = n.all ? "all" : n.any ? "any" : null; if (!k) return 0; return 1 + Math.max(0, ...n[k].map(depth)); }
    if (depth(conditions) > 2) { condBox.hidden = false; condBox.appendChild(el("p", {"class": "muted", text: L.deep})); }
    else { condBox.hidden = false; renderGroup(condBox, conditions, true); }
    actBox.hidden = false; renderActions();

    function sync() {
      if (depth(conditions) <= 2) condField.value = JSON.stringify(conditions, null, 1);
      actField.value = JSON.stringify(actions, null, 1);
    }
    function refOptions(ref) { return ref === "team" ? O.teams : ref === "channel" ? O.channels : O.users; }
    function valueInput(leaf, f) {
      var op = O.ops[leaf.op] || {};
      if (op.novalue) return null;
      var onchange = function (v) { leaf.value = v; sync(); };
      if ((f.choices.length || f.ref) && !op.list) {
        var opts = f.ref ? refOptions(f.ref) : f.choices.map(function (c) { return [c, (O.labels || {})[c] || c]; });
        if (leaf.value === undefined && opts.length) leaf.value = f.ref ? opts[0][0] : opts[0][0];
        var s = select(opts, leaf.value);
        s.addEventListener("change", function () { onchange(f.ref || f.kind === "number" ? Number(s.value) : s.value); });
        return s;
      }
      var shown = Array.isArray(leaf.value) ? leaf.value.join(", ") : (leaf.value === undefined ? "" : leaf.value);
      var input = el("input", {value: shown, placeholder: op.list ? L.value + ", …" : L.value, "aria-label": L.value});
      input.addEventListener("input", function () {
        var v = input.value;
        if (op.list) v = v.split(",").map(function (x) { return x.trim(); }).filter(Boolean).map(function (x) { return f.kind === "number" || f.ref ? Number(x) : x; });
        else if (f.kind === "number") v = v === "" ? "" : Number(v);
        onchange(v);
      });
      return input;
    }
    function renderLeaf(list, i, container) {
      var leaf = list[i];
      var baseName = leaf.field && !fieldsByName[leaf.field] ? leaf.field.split(".").slice(0, 2).join(".") : leaf.field;
      var f = fieldsByName[baseName] || O.fields[0];
      var row = el("div", {"class": "cond-row"});
      var fs = select(O.fields.map(function (x) { return [x.name, x.label]; }), f.name, "cond-field");
      var key = f.dynamic ? el("input", {value: leaf.field.slice(f.name.length + 1), placeholder: L.key, "class": "cond-key"}) : null;
      var os = select(f.ops.map(function (o) { return [o, O.ops[o].label]; }), leaf.op, "cond-op");
      if (f.ops.indexOf(leaf.op) < 0) leaf.op = f.ops[0];
      fs.addEventListener("change", function () { list[i] = {field: fs.value, op: fieldsByName[fs.value].ops[0]}; redraw(); });
      os.addEventListener("change", function () { leaf.op = os.value; delete leaf.value; redraw(); });
      if (key) key.addEventListener("input", function () { leaf.field = f.name + "." + key.value.trim(); sync(); });
      row.appendChild(fs); if (key) row.appendChild(key); row.appendChild(os);
      var v = valueInput(leaf, f); if (v) row.appendChild(v);
      row.appendChild(el("button", {type: "button", "class": "linkish", text: L.remove, onclick: function () { list.splice(i, 1); redraw(); }}));
      container.appendChild(row);
    }
    function renderGroup(container, group, top) {
      var kind = group.any ? "any" : "all", items = group[kind];
      var box = el("div", {"class": "cond-group" + (top ? " top" : "")});
      var ks = select([["all", L.all], ["any", L.any]], kind, "cond-kind");
      ks.addEventListener("change", function () { var it = group[kind]; delete group[kind]; group[ks.value] = it; redraw(); });
      box.appendChild(el("div", {"class": "cond-head"}, [el("span", {text: L.match + " "}), ks]));
      items.forEach(function (item, i) {
        if (item.all || item.any) {
          var sub = el("div", {"class": "cond-sub"});
          renderGroup(sub, item, false);
          sub.appendChild(el("button", {type: "button", "class": "linkish", text: L.remove, onclick: function () { items.splice(i, 1); redraw(); }}));
          box.appendChild(sub);
        } else renderLeaf(items, i, box);
      });
      var add = el("div", {"class": "row-actions"}, [
        el("button", {type: "button", text: L.addCondition, onclick: function () { items.push({field: "analysis.intents", op: "contains", value: "question"}); redraw(); }}),
        top ? el("button", {type: "button", text: L.addGroup, onclick: function () { items.push({any: [{field: "analysis.sentiment", op: "eq", value: "negative"}]}); redraw(); }}) : null,
      ]);
      box.appendChild(add);
      container.appendChild(box);
    }
    /* The action kinds and their parameters come from the server's registry (automation/effects):
       O.actions maps kind to label, O.params kind to [{name, label, optional}]; the widget follows the name. */
    function paramInput(action, param) {
      var name = param.name;
      var set = function (v) { if (v === "" || v === null) delete action[name]; else action[name] = v; sync(); };
      var s;
      if (name === "team" || name === "agent" || name === "article") {
        var opts = name === "team" ? O.teams : name === "agent" ? O.users : O.articles;
        if (param.optional) opts = [["", L.none]].concat(opts);
        else if (action[name] === undefined && opts.length) action[name] = opts[0][0];
        s = select(opts, action[name]);
        s.addEventListener("change", function () { set(s.value === "" ? null : Number(s.value)); });
        return el("label", {}, [document.createTextNode(param.label), s]);
      }
      if (name === "strategy") {
        var opts2 = [["least_open", L.leastOpen], ["round_robin", L.roundRobin]];
        if (param.optional) opts2 = [["", L.none]].concat(opts2);
        else if (!action.strategy) action.strategy = "least_open";
        s = select(opts2, action.strategy || "");
        s.addEventListener("change", function () { set(s.value || null); });
        return el("label", {}, [document.createTextNode(param.label), s]);
      }
      if (name === "status") { if (!action.status) action.status = "pending"; s = select(O.statuses.map(function (x) { return [x, (O.labels || {})[x] || x]; }), action.status); s.addEventListener("change", function () { set(s.value); }); return s; }
      if (name === "priority") { if (!action.priority) action.priority = 3; s = select(O.priorities || [[1, "1"], [2, "2"], [3, "3"], [4, "4"]], action.priority); s.addEventListener("change", function () { set(Number(s.value)); }); return s; }
      var label = param.label || name;
      var value = Array.isArray(action[name]) ? action[name].join(", ") : (action[name] || "");
      var input = name.indexOf("text") === 0 ? el("textarea", {rows: 2}) : el("input", {});
      input.value = value;
      input.addEventListener("input", function () { set(name === "tags" ? input.value.split(",").map(function (x) { return x.trim(); }).filter(Boolean) : input.value); });
      return el("label", {}, [document.createTextNode(label), input]);
    }
    function renderActions() {
      actBox.innerHTML = "";
      actions.forEach(function (action, i) {
        var row = el("div", {"class": "action-row"});
        var ts = select(Object.keys(O.actions).map(function (k) { return [k, O.actions[k]]; }), action.type);
        ts.addEventListener("change", function () { actions[i] = {type: ts.value}; renderActions(); sync(); });
        row.appendChild(ts);
        (O.params[action.type] || []).forEach(function (p) { row.appendChild(paramInput(action, p)); });
        row.appendChild(el("button", {type: "button", "class": "linkish", text: L.remove, onclick: function () { actions.splice(i, 1); renderActions(); sync(); }}));
        actBox.appendChild(row);
      });
      actBox.appendChild(el("button", {type: "button", text: L.addAction, onclick: function () { actions.push({type: Object.keys(O.actions)[0]}); renderActions(); sync(); }}));
      sync();
    }
    function redraw() { condBox.innerHTML = ""; renderGroup(condBox, conditions, true); sync(); }
    form.addEventListener("submit", sync);
    sync();
  }

  /* --- guideline check before a reply is sent --- */
  var reply = document.getElementById("reply-form");
  if (reply && reply.dataset.check) {
    var box = document.getElementById("reply-warnings");
    var nativeSubmit = HTMLFormElement.prototype.submit;
    var confirmed = false;
    var actionsRow = document.getElementById("reply-actions");
    function closeWarnings() { box.hidden = true; box.innerHTML = ""; if (actionsRow) actionsRow.hidden = false; }
    function check() {
      if (confirmed) { nativeSubmit.call(reply); return; }
      var data = new FormData(reply);
      data.delete("files"); data.delete("image");  // the check reads the text; files go with the real send only
      fetch(reply.dataset.check, {method: "POST", body: data, credentials: "same-origin"})
        .then(function (r) { return r.json(); })
        .then(function (res) {
          if (!res.warnings.length && !res.approval) { confirmed = true; nativeSubmit.call(reply); return; }
          box.hidden = false; box.innerHTML = "";
          if (actionsRow) actionsRow.hidden = true;  // one send button at a time: "send anyway" replaces it
          var ul = el("ul", {"class": "warnings"});
          res.warnings.forEach(function (w) { ul.appendChild(el("li", {text: "⚠ " + w.message})); });
          if (res.approval) ul.appendChild(el("li", {text: "⏸ " + box.dataset.approval + " (" + res.approval + ")"}));
          box.appendChild(ul);
          box.appendChild(el("div", {"class": "row-actions"}, [
            el("button", {type: "button", "class": "primary", text: box.dataset.send, onclick: function () { confirmed = true; nativeSubmit.call(reply); }}),
            el("button", {type: "button", text: box.dataset.edit, onclick: function () { closeWarnings(); document.getElementById("reply-text").focus(); }}),
          ]));
        })
        .catch(function () { confirmed = true; nativeSubmit.call(reply); });  // the check never blocks sending
    }
    reply.submit = check;  // Ctrl+Enter in app.js calls form.submit()
    reply.addEventListener("submit", function (e) { if (!confirmed) { e.preventDefault(); check(); } });
    reply.addEventListener("input", function () { confirmed = false; if (!box.hidden) closeWarnings(); });
  }
})();
