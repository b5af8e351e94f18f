// Administrator dashboard: draw the turnover charts (when Chart.js is installed) and run background
// jobs with a progress bar. Text from the server is only ever set with textContent.
(function () {
  "use strict";
  var PALETTE = ["#b3261e", "#0b5cad", "#1f7a3a", "#9a6700", "#6b3fa0", "#00838f", "#c2185b", "#5d4037", "#455a64", "#7cb342"];

  function drawCharts() {
    var source = document.getElementById("chart-data");
    if (!source || typeof window.Chart === "undefined") { return; }
    var charts = JSON.parse(source.textContent);
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var spec = charts[canvas.getAttribute("data-chart")];
      if (!spec) { return; }
      var values = spec.values.map(Number);
      var round = spec.type === "doughnut";
      new window.Chart(canvas, {
        type: spec.type,
        data: {
          labels: spec.labels,
          datasets: [{ label: "成交额（万元）", data: values,
            backgroundColor: round ? PALETTE : PALETTE[0], borderColor: round ? "#fff" : PALETTE[0],
            maxBarThickness: 48 }]
        },
        options: {
          responsive: true, maintainAspectRatio: false, animation: false,
          indexAxis: canvas.getAttribute("data-chart") === "turnover_field" ? "y" : "x",
          plugins: { legend: { display: round, position: "right" } },
          scales: round ? {} : { x: { ticks: { autoSkip: true } }, y: { beginAtZero: true } }
        }
      });
      canvas.setAttribute("data-drawn", "true");
    });
  }

  var box = document.getElementById("job-status");

  function showJob(job) {
    box.hidden = false;
    document.getElementById("job-kind").textContent = job.kind;
    var text = job.status_text;
    if (job.total) { text += "（" + job.done + " / " + job.total + "）"; }
    if (job.error) { text += "：" + job.error; }
    document.getElementById("job-text").textContent = text;
    var bar = document.getElementById("job-progress");
    if (job.percent === null || job.percent === undefined) { bar.removeAttribute("value"); } else { bar.value = job.percent; }
    document.getElementById("job-summary").textContent = job.summary || "";
    box.setAttribute("data-status", job.status);
  }

  function follow(id) {
    fetch("/console/admin/jobs/" + encodeURIComponent(id) + ".json", { cache: "no-store", credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (job) { showJob(job); if (!job.finished) { window.setTimeout(function () { follow(id); }, 700); } })
      .catch(function () { window.setTimeout(function () { follow(id); }, 2000); });
  }

  function submitJob(event) {
    event.preventDefault();
    var form = event.currentTarget;
    var token = document.querySelector('meta[name="csrf-token"]');
    fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "X-CSRF-Token": token ? token.content : "" } })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (res) {
        if (!res.ok) { showJob({ kind: "任务", status: "failed", status_text: "未能启动", error: (res.body.error && res.body.error.message) || "", percent: 0 }); return; }
        showJob(res.body);
        follow(res.body.id);
      });
  }

  document.querySelectorAll("form[data-job-form]").forEach(function (f) { f.addEventListener("submit", submitJob); });
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", drawCharts); } else { drawCharts(); }
}());
