// forecast explore: builds the controls from the spec the server embeds, sends the changed
// values to /api/view and shows the fragments it returns. No library, no network beyond
// the local server.
(function () {
  "use strict";
  var spec = JSON.parse(document.getElementById("spec").textContent);
  var lang = spec.lang;
  var seq = 0;
  var timer = null;
  var controls = {};   // key -> {spec, get(), set(value), dirty()}
  var lastYaml = "";

  function t(key) {
    var table = spec.texts[lang] || {};
    return Object.prototype.hasOwnProperty.call(table, key) ? table[key] : key;
  }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; }
      else if (k === "dataT") { node.setAttribute("data-t", attrs[k]); }
      else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { node.appendChild(c); });
    return node;
  }
  function show(value) {
    if (value === null || value === undefined) { return ""; }
    if (typeof value === "number") { return String(Math.round(value * 1e6) / 1e6); }
    return String(value);
  }

  // ------------------------------------------------------------------ controls
  function numberControl(c) {
    var box = el("div", {"class": "control", "data-key": c.key});
    var id = "c-" + c.key.replace(/\W/g, "-");
    box.appendChild(el("label", {"for": id, dataT: c.key}));
    var lo = Math.min(c.min, c.default), hi = Math.max(c.max, c.default);
    var range = el("input", {type: "range", min: lo, max: hi, step: c.step,
                             value: c.default, "aria-label": c.key, tabindex: "-1"});
    var text = el("input", {type: "text", id: id, name: c.key, inputmode: "decimal",
                            value: show(c.default)});
    var initial = text.value;
    range.addEventListener("input", function () { text.value = range.value; changed(); });
    text.addEventListener("input", function () {
      var v = parseFloat(text.value);
      if (!isNaN(v)) { range.value = v; }
      changed();
    });
    box.appendChild(el("div", {"class": "row"}, [range, text]));
    controls[c.key] = {
      spec: c, box: box,
      dirty: function () { return text.value !== initial; },
      get: function () { return text.value; },
      reset: function () { text.value = initial; range.value = c.default; }
    };
    return box;
  }
  function choiceControl(c) {
    var box = el("div", {"class": "control", "data-key": c.key});
    var id = "c-" + c.key.replace(/\W/g, "-");
    box.appendChild(el("label", {"for": id, dataT: c.key}));
    var select = el("select", {id: id, name: c.key});
    c.choices.forEach(function (choice) {
      select.appendChild(el("option", {value: choice, dataT: "choice_" + choice}));
    });
    select.value = c.default;
    select.addEventListener("change", changed);
    box.appendChild(select);
    controls[c.key] = {
      spec: c, box: box,
      dirty: function () { return select.value !== c.default; },
      get: function () { return select.value; },
      reset: function () { select.value = c.default; }
    };
    return box;
  }
  function pathControl(c) {
    var box = el("div", {"class": "control", "data-key": c.key});
    box.appendChild(el("span", {"class": "label", dataT: c.key}));
    var table = el("table", {"class": "path-table"});
    var years = Object.keys(c.default);
    var head = el("tr"), row = el("tr"), inputs = {};
    years.forEach(function (year) {
      head.appendChild(el("td", {text: year}));
      var input = el("input", {type: "text", inputmode: "decimal", name: c.key + "." + year,
                               value: show(c.default[year]), "aria-label": c.key + " " + year});
      input.addEventListener("input", changed);
      inputs[year] = input;
      row.appendChild(el("td", {}, [input]));
    });
    table.appendChild(head); table.appendChild(row);
    box.appendChild(table);
    controls[c.key] = {
      spec: c, box: box,
      dirty: function () {
        return years.some(function (y) { return inputs[y].value !== show(c.default[y]); });
      },
      get: function () {
        var out = {};
        years.forEach(function (y) { out[y] = inputs[y].value; });
        return out;
      },
      reset: function () { years.forEach(function (y) { inputs[y].value = show(c.default[y]); }); }
    };
    return box;
  }
  function additionsControl(c) {
    var box = el("div", {"class": "control", "data-key": c.key});
    box.appendChild(el("span", {"class": "label", dataT: c.key}));
    if (!c.enabled) {
      box.appendChild(el("p", {"class": "note", dataT: "additions_base_unknown"}));
      return box;
    }
    var table = el("table", {"class": "add-table"});
    var head = el("tr", {}, [el("th", {dataT: "start_year"}), el("th", {dataT: "end_year"}),
                             el("th", {dataT: "amount"}), el("th")]);
    var body = el("tbody");
    table.appendChild(el("thead", {}, [head]));
    table.appendChild(body);
    var rows = [];
    function addRow(values) {
      var cells = {};
      var tr = el("tr");
      ["start_year", "end_year", "amount"].forEach(function (name) {
        var input = el("input", {type: "text", inputmode: "numeric", value: show(values[name]),
                                 name: c.key + "." + name, "aria-label": c.key + " " + name});
        input.addEventListener("input", changed);
        cells[name] = input;
        tr.appendChild(el("td", {}, [input]));
      });
      var remove = el("button", {type: "button", dataT: "remove_row"});
      var origin = el("span", {"class": "origin",
                               dataT: values.plan === undefined || values.plan === null
                                 ? "new_row" : "plan_row"});
      var record = {tr: tr, cells: cells, plan: values.plan};
      remove.addEventListener("click", function () {
        body.removeChild(tr);
        rows.splice(rows.indexOf(record), 1);
        changed();
      });
      tr.appendChild(el("td", {}, [remove, origin]));
      body.appendChild(tr);
      rows.push(record);
      relabel(tr);
    }
    function snapshot() {
      return rows.map(function (r) {
        var out = {start_year: r.cells.start_year.value, end_year: r.cells.end_year.value,
                   amount: r.cells.amount.value};
        if (r.plan !== undefined && r.plan !== null) { out.plan = r.plan; }
        return out;
      });
    }
    c.default.forEach(addRow);
    var initial = JSON.stringify(snapshot());
    var add = el("button", {type: "button", dataT: "add_row", "class": "add"});
    add.addEventListener("click", function () {
      var year = Math.min(spec.years.base + 7, spec.years.end);
      addRow({start_year: year, end_year: year, amount: 1000});
      changed();
    });
    box.appendChild(table);
    box.appendChild(add);
    controls[c.key] = {
      spec: c, box: box,
      dirty: function () { return JSON.stringify(snapshot()) !== initial; },
      get: snapshot,
      reset: function () {
        rows.slice().forEach(function (r) { body.removeChild(r.tr); });
        rows.length = 0;
        c.default.forEach(addRow);
      }
    };
    return box;
  }

  function build() {
    var groups = {};
    var order = [];
    var holder = document.getElementById("groups");
    spec.controls.forEach(function (c) {
      if (!groups[c.group]) {
        // groups open on a wide screen; folded on a phone, so the results are near
        groups[c.group] = el("details", {"class": "group", "data-group": c.group},
                             [el("summary", {dataT: c.group})]);
        if (window.innerWidth > 820) { groups[c.group].setAttribute("open", ""); }
        order.push(c.group);
      }
      var make = {number: numberControl, choice: choiceControl, path: pathControl,
                  additions: additionsControl}[c.kind];
      groups[c.group].appendChild(make(c));
    });
    order.forEach(function (g) { holder.appendChild(groups[g]); });
  }

  function relabel(root) {
    (root || document).querySelectorAll("[data-t]").forEach(function (node) {
      node.textContent = t(node.getAttribute("data-t"));
    });
  }
  function heading() {
    var name = lang === "zh" ? spec.config.jurisdiction : spec.config.jurisdiction_en;
    var title = t("title").replace("{name}", name);
    document.getElementById("title").textContent = title;
    document.title = title;
    document.getElementById("subtitle").textContent = !spec.config.document
      ? t("subtitle_no_plan")  // a config without source_document (forecast init)
      : t("subtitle").replace("{document}", spec.config.document);
    document.getElementById("lang-switch").textContent = t("lang_switch");
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  }

  // ------------------------------------------------------------------ talking to the server
  function values() {
    var out = {};
    Object.keys(controls).forEach(function (key) {
      if (controls[key].dirty()) { out[key] = controls[key].get(); }
    });
    return out;
  }
  function request() {
    return {values: values(), name: document.getElementById("scenario-name").value,
            lang: lang};
  }
  function changed() {
    clearTimeout(timer);
    timer = setTimeout(update, 120);
  }
  function clearErrors() {
    document.querySelectorAll(".control.invalid").forEach(function (n) {
      n.classList.remove("invalid");
    });
    document.getElementById("error").textContent = "";
    document.getElementById("error-name").textContent = "";
  }
  function showError(data) {
    clearErrors();
    var target = data.key && controls[data.key] ? controls[data.key].box : null;
    if (target) { target.classList.add("invalid"); }
    var line = data.key === "name" ? document.getElementById("error-name")
                                   : document.getElementById("error");
    line.textContent = data.error;
    document.getElementById("status").textContent = t("error_kept");
  }
  function update() {
    var mine = ++seq;
    document.body.setAttribute("data-state", "busy");
    document.getElementById("status").textContent = t("computing");
    fetch("/api/view", {method: "POST", headers: {"Content-Type": "application/json"},
                        body: JSON.stringify(request())})
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (mine !== seq) { return; }
        if (!data.ok) {
          showError(data);
          document.body.setAttribute("data-state", "error");
        } else {
          clearErrors();
          document.getElementById("findings").innerHTML = data.findings;
          document.getElementById("gaps").innerHTML = data.gaps;
          document.getElementById("charts").innerHTML = data.charts;
          document.getElementById("overlay").value = data.overlay_yaml;
          lastYaml = data.overlay_yaml;
          document.getElementById("status").textContent =
            t("computed").replace("{ms}", data.ms);
          document.body.setAttribute("data-state", "ready");
        }
        document.body.setAttribute("data-seq", String(mine));
      })
      .catch(function (err) {
        if (mine !== seq) { return; }
        document.getElementById("error").textContent = String(err);
        document.body.setAttribute("data-state", "error");
        document.body.setAttribute("data-seq", String(mine));
      });
  }

  function exportReport() {
    var out = document.getElementById("report-result");
    out.textContent = t("computing");
    fetch("/api/report", {method: "POST", headers: {"Content-Type": "application/json"},
                          body: JSON.stringify(request())})
      .then(function (r) { return r.json(); })
      .then(function (data) {
        out.textContent = "";
        if (!data.ok) { showError(data); return; }
        out.appendChild(document.createTextNode(t("report_written") + " " + data.path + " · "));
        out.appendChild(el("a", {href: data.url, target: "_blank", rel: "noopener",
                                 id: "report-link", text: t("open_report")}));
      });
  }
  function downloadOverlay() {
    var name = document.getElementById("scenario-name").value || spec.name;
    var blob = new Blob([lastYaml], {type: "application/yaml"});
    var link = el("a", {href: URL.createObjectURL(blob), download: name + ".yaml"});
    document.body.appendChild(link);
    link.click();
    document.body.removeChild(link);
  }

  document.getElementById("scenario-name").value = spec.name;
  document.getElementById("scenario-name").addEventListener("input", changed);
  build();
  relabel();
  heading();
  document.getElementById("lang-switch").addEventListener("click", function () {
    lang = lang === "zh" ? "en" : "zh";
    relabel();
    heading();
    update();
  });
  document.getElementById("reset").addEventListener("click", function () {
    Object.keys(controls).forEach(function (k) { controls[k].reset(); });
    relabel();
    update();
  });
  document.getElementById("export-report").addEventListener("click", exportReport);
  document.getElementById("download-overlay").addEventListener("click", downloadOverlay);
  update();
})();
