// Draws every element with a data-chart attribute using ECharts (vendored). The attribute
// holds the chart's data as JSON: {"kind": "line"|"bar", "x": [...], "y": [...], "name": "..."}.
// No inline scripts: the Content-Security-Policy allows scripts from this site only.
(function () {
  "use strict";
  function draw(element) {
    var spec;
    try {
      spec = JSON.parse(element.getAttribute("data-chart"));
    } catch (e) {
      return;
    }
    var chart = echarts.init(element, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      grid: { left: 48, right: 16, top: 24, bottom: 32 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: spec.x, name: spec.xName || "" },
      yAxis: { type: "value", min: spec.min, max: spec.max, name: spec.yName || "" },
      series: [{ type: spec.kind || "line", data: spec.y, name: spec.name || "" }],
    });
    element.setAttribute("data-chart-drawn", "1");
    window.addEventListener("resize", function () { chart.resize(); });
  }
  function drawAll() {
    if (typeof echarts === "undefined") return;
    document.querySelectorAll("[data-chart]").forEach(draw);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
