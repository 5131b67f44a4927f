// targetrank report: sortable, filterable tables and expandable target cards.
// Vanilla JS, no network. All data is read from the JSON block and written with textContent,
// never innerHTML, so no text of the run can become markup.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("tr-data").textContent);

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function segments(parent, segs) {
    (segs || []).forEach(function (s) {
      if (s[1] && /^https:\/\/[^\s]+$/.test(s[1])) {
        var a = el("a", null, s[0]);
        a.href = s[1];
        a.rel = "noopener noreferrer";
        a.target = "_blank";
        parent.appendChild(a);
      } else {
        parent.appendChild(document.createTextNode(s[0]));
      }
    });
    return parent;
  }

  function dataRows(table) {
    return Array.prototype.filter.call(table.tBodies[0].rows, function (r) {
      return !r.classList.contains("card-row");
    });
  }

  function closeCard(row) {
    if (row.cardRow) {
      row.cardRow.remove();
      row.cardRow = null;
      var b = row.querySelector("button.card-toggle");
      if (b) b.setAttribute("aria-expanded", "false");
    }
  }

  function sortKey(cell, type) {
    var v = cell.getAttribute("data-sort");
    if (v === null) v = cell.textContent.trim();
    if (type === "num") {
      var n = parseFloat(v);
      return isNaN(n) ? null : n;
    }
    return v === "" ? null : v.toLowerCase();
  }

  function sortTable(table, col, th) {
    var type = th.getAttribute("data-type") || "text";
    var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) {
      h.setAttribute("aria-sort", "none");
    });
    th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
    var rows = dataRows(table);
    rows.forEach(closeCard);
    var keyed = rows.map(function (r) {
      return { row: r, key: sortKey(r.cells[col], type), i: +r.getAttribute("data-i") };
    });
    keyed.sort(function (a, b) {
      if (a.key === null && b.key === null) return a.i - b.i;
      if (a.key === null) return 1; // empty cells last, whichever the direction
      if (b.key === null) return -1;
      var c = type === "num" ? a.key - b.key : a.key.localeCompare(b.key);
      return c !== 0 ? dir * c : a.i - b.i;
    });
    var body = table.tBodies[0];
    keyed.forEach(function (k) { body.appendChild(k.row); });
  }

  function applyFilter(table) {
    var box = document.querySelector('input[data-filter="' + table.id + '"]');
    var hide = document.querySelector('input[data-hide-gated="' + table.id + '"]');
    var terms = box ? box.value.toLowerCase().split(/\s+/).filter(Boolean) : [];
    var shown = 0;
    var rows = dataRows(table);
    rows.forEach(function (r) {
      var text = r.textContent.toLowerCase();
      var ok = terms.every(function (t) { return text.indexOf(t) !== -1; });
      if (hide && hide.checked && r.classList.contains("gated")) ok = false;
      r.hidden = !ok;
      if (!ok) closeCard(r);
      if (ok) shown += 1;
    });
    var count = document.querySelector('[data-count="' + table.id + '"]');
    if (count) count.textContent = shown + " of " + rows.length + " rows shown";
  }

  function num(v, digits) {
    return v === null || v === undefined || v === "" ? "" : (+v).toFixed(digits);
  }

  function buildCard(strategy, card) {
    var box = el("div", "card");
    var head = card.symbol + " in " + strategy.title + ": rank " + card.rank;
    if (card.genome_rank) head += " (genome rank " + card.genome_rank + ")";
    if (card.score !== null) head += ", score " + num(card.score, 3);
    box.appendChild(el("h4", null, head));
    if (card.gate) {
      box.appendChild(el("p", "gate", "Gated out (ranks after every gene that passes): " + card.gate));
    }
    var grid = el("div", "cardgrid");
    var left = el("div");
    left.appendChild(el("h3", null, "Contributions (" + data.units + ")"));
    if (!card.drivers.length) {
      left.appendChild(el("p", "note", "This run stored no per-feature contributions for this row."));
    } else {
      var max = 0;
      card.drivers.forEach(function (d) { max = Math.max(max, Math.abs(d[2])); });
      var t = el("table", "small contrib");
      var hr = t.createTHead().insertRow();
      ["feature", "value", "contribution", "", "source (release)"].forEach(function (h) {
        hr.appendChild(el("th", h === "contribution" ? "n" : null, h));
      });
      var body = t.createTBody();
      card.drivers.forEach(function (d) {
        var f = data.features[d[0]];
        var tr = body.insertRow();
        tr.appendChild(el("td", null, f[1])).title = f[0];
        tr.appendChild(el("td", null, d[1]));
        tr.appendChild(el("td", "n", (d[2] > 0 ? "+" : "") + d[2].toFixed(3)));
        var bar = el("div", "bar");
        var neg = el("div", "half neg");
        var pos = el("div", "half pos");
        var fill = el("span");
        fill.style.width = (max > 0 ? (100 * Math.abs(d[2])) / max : 0).toFixed(1) + "%";
        (d[2] < 0 ? neg : pos).appendChild(fill);
        bar.appendChild(neg);
        bar.appendChild(pos);
        tr.appendChild(el("td")).appendChild(bar);
        var src = tr.appendChild(el("td", "src", f[2]));
        if (f[3]) src.appendChild(el("div", "muted", f[3]));
      });
      left.appendChild(t);
      if (card.bias !== null) {
        left.appendChild(el("p", "note", "Baseline (bias): " + (card.bias > 0 ? "+" : "") +
          card.bias.toFixed(3) + ". Bars: green pushes the score up, red down; " +
          "the largest stored contributions, scaled to the largest."));
      }
    }
    grid.appendChild(left);
    var right = el("div");
    right.appendChild(el("h3", null, "Evidence"));
    var ev = card.evidence;
    if (!ev) {
      right.appendChild(el("p", "note", "No evidence-base entry for this target and strategy."));
    } else {
      var dl = el("dl", "kv");
      function item(label, value, segs) {
        if ((value === undefined || value === null || value === "") && !(segs && segs.length)) return;
        dl.appendChild(el("dt", null, label));
        var dd = el("dd");
        if (segs) segments(dd, segs); else dd.textContent = String(value);
        dl.appendChild(dd);
      }
      item("stage", ev.stage);
      item("oncology/bone stage", ev.onc_bone_stage);
      item("relevance grade", ev.grade);
      item("agents", ev.agents);
      item("modality", ev.modality);
      if (ev.failed_phase3) item("failed phase 3", null, ev.failed_phase3_trials.length ? ev.failed_phase3_trials : [["yes", null]]);
      item("fact", null, ev.fact);
      item("citations", null, ev.citations);
      item("verification", ev.verification);
      right.appendChild(dl);
    }
    grid.appendChild(right);
    box.appendChild(grid);
    return box;
  }

  function toggleCard(table, row, button) {
    if (row.cardRow) { closeCard(row); return; }
    var s = data.strategies[+table.getAttribute("data-strategy")];
    var card = s.cards[+row.getAttribute("data-i")];
    var tr = el("tr", "card-row");
    var td = el("td");
    td.colSpan = row.cells.length;
    td.appendChild(buildCard(s, card));
    tr.appendChild(td);
    row.after(tr);
    row.cardRow = tr;
    button.setAttribute("aria-expanded", "true");
  }

  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      var b = th.querySelector("button.sort");
      if (b) b.addEventListener("click", function () { sortTable(table, col, th); });
    });
    var box = document.querySelector('input[data-filter="' + table.id + '"]');
    if (box) box.addEventListener("input", function () { applyFilter(table); });
    var hide = document.querySelector('input[data-hide-gated="' + table.id + '"]');
    if (hide) hide.addEventListener("change", function () { applyFilter(table); });
    table.addEventListener("click", function (e) {
      var b = e.target.closest("button.card-toggle");
      if (b) toggleCard(table, b.closest("tr"), b);
    });
    applyFilter(table);
  });
  document.documentElement.setAttribute("data-ready", "1");
})();
