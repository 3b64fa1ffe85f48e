/* Draws each <canvas data-govservice-chart='{json}'> with Chart.js (assets/vendor).
 *
 * The JSON is what performance_pages.trend_chart builds: {"months": [...],
 * "series": [{"kpi", "unit": "ratio"|"count"|"score", "label", "data": [...]}],
 * "lang"}. Ratios are drawn in percent on the left axis, counts on the right.
 * A null is a month with no data: a gap in the line (spanGaps off), never 0.
 * The canvas keeps its role="img" and aria-label; the same figures are in the
 * table under it (see snippets/performance_chart.html).
 */
(function () {
  "use strict";
  var COLOURS = ["#1d5fa8", "#c0392b", "#1e8449", "#8e44ad", "#b9770e"];

  function draw(canvas) {
    var spec;
    try { spec = JSON.parse(canvas.getAttribute("data-govservice-chart")); } catch (e) { return; }
    if (!spec || !spec.months || !window.Chart) { return; }
    var locale = spec.lang === "en" ? "en-GB" : "zh-CN";
    var hasCount = spec.series.some(function (s) { return s.unit === "count"; });
    var datasets = spec.series.map(function (s, i) {
      var ratio = s.unit === "ratio";
      return {
        label: s.label,
        data: s.data.map(function (v) { return v === null ? null : (ratio ? Math.round(v * 1000) / 10 : v); }),
        yAxisID: ratio ? "percent" : "count",
        borderColor: COLOURS[i % COLOURS.length],
        backgroundColor: COLOURS[i % COLOURS.length],
        borderDash: ratio ? [] : [6, 4],
        spanGaps: false,
        pointRadius: 2,
        tension: 0,
        unit: s.unit
      };
    });
    var scales = {
      percent: { position: "left", min: 0, max: 100,
                 ticks: { callback: function (v) { return v + "%"; } } }
    };
    if (hasCount) {
      scales.count = { position: "right", beginAtZero: true, grid: { drawOnChartArea: false },
                       ticks: { callback: function (v) { return Number(v).toLocaleString(locale); } } };
    }
    new window.Chart(canvas, {
      type: "line",
      data: { labels: spec.months, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        locale: locale,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { position: "bottom", labels: { boxWidth: 12 } },
          tooltip: { callbacks: { label: function (ctx) {
            var v = ctx.parsed.y;
            if (v === null || v === undefined) { return ctx.dataset.label + ": —"; }
            return ctx.dataset.label + ": " + (ctx.dataset.unit === "ratio" ? v + "%" : Number(v).toLocaleString(locale));
          } } }
        },
        scales: scales
      }
    });
  }

  function drawAll() {
    var canvases = document.querySelectorAll("canvas[data-govservice-chart]");
    for (var i = 0; i < canvases.length; i++) { draw(canvases[i]); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
}());
