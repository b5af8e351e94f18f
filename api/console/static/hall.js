// Trading hall: poll the live JSON endpoint and refresh figures, targets and the deal board in place.
// Everything is written with textContent, never innerHTML, so no text from the server can become markup.
(function () {
  "use strict";
  var root = document.getElementById("live-root");
  if (!root) { return; }
  var url = root.getAttribute("data-poll-url");
  var seconds = parseInt(root.getAttribute("data-poll-seconds"), 10) || 5;
  var status = document.getElementById("live-status");
  var seen = {};
  document.querySelectorAll("#board-body tr[data-id]").forEach(function (tr) { seen[tr.getAttribute("data-id")] = true; });

  function lookup(obj, path) {
    return path.split(".").reduce(function (o, k) { return o == null ? undefined : o[k]; }, obj);
  }

  function cell(tr, text, cls) {
    var td = document.createElement("td");
    td.textContent = text == null ? "" : String(text);
    if (cls) { td.className = cls; }
    tr.appendChild(td);
  }

  function renderBoard(rows) {
    var body = document.getElementById("board-body");
    var fresh = document.createDocumentFragment();
    rows.forEach(function (r) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-id", String(r.id));
      if (!seen[String(r.id)]) { tr.className = "fresh"; seen[String(r.id)] = true; }
      [r.signed_on, r.title, r.contract_type, r.field, r.region, r.buyer, r.seller].forEach(function (v) { cell(tr, v); });
      cell(tr, r.amount, "num");
      fresh.appendChild(tr);
    });
    if (!rows.length) {
      var tr = document.createElement("tr");
      tr.className = "empty-row";
      var td = document.createElement("td");
      td.colSpan = 8;
      td.textContent = "暂无成交记录。";
      tr.appendChild(td);
      fresh.appendChild(tr);
    }
    body.replaceChildren(fresh);
  }

  function renderTargets(targets) {
    var list = document.getElementById("targets");
    targets.forEach(function (t) {
      var li = list.querySelector('li[data-code="' + CSS.escape(t.code) + '"]');
      if (!li) { return; }
      var bar = li.querySelector("progress");
      if (bar && t.percent !== null) {
        bar.value = t.percent;
        bar.textContent = t.percent + "%";
      }
      li.querySelector(".outcome").textContent = t.outcome_text;
      li.querySelector(".actual").textContent = t.actual;
      li.querySelector(".goal").textContent = t.goal;
      li.querySelector(".pct").textContent = t.percent_text;
    });
  }

  function apply(data) {
    document.querySelectorAll("[data-live]").forEach(function (el) {
      var value = lookup(data, el.getAttribute("data-live"));
      if (value === undefined) { return; }
      var text = el.getAttribute("data-live") === "generated_at" ? String(value).slice(0, 19).replace("T", " ") : String(value);
      if (el.textContent !== text) {
        el.textContent = text;
        el.classList.remove("changed");
        void el.offsetWidth;
        el.classList.add("changed");
      }
    });
    renderBoard(data.board || []);
    renderTargets(data.targets || []);
  }

  function poll() {
    if (document.hidden) { return; }
    fetch(url, { headers: { "Accept": "application/json" }, cache: "no-store", credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
      .then(function (data) { apply(data); status.textContent = ""; root.setAttribute("data-polls", String((parseInt(root.getAttribute("data-polls"), 10) || 0) + 1)); })
      .catch(function () { status.textContent = "实时数据连接中断，正在重试…"; });
  }

  window.setInterval(poll, seconds * 1000);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { poll(); } });
}());
