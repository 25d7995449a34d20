// Draws each chart of the page with Apache ECharts (static/vendor/echarts).
// A chart is <div data-echart="ID"> next to <script type="application/json"
// id="ID"> holding its spec ({"option": ...}, see sakila_site/charts.py).
// Formats travel by name ("money", "percent", "number", "seconds"); a data
// point with a "url" opens it when clicked (drill-through).
(function () {
  "use strict";
  const en = (value, digits) =>
    value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  const compact = (value) =>
    Math.abs(value) >= 1e6 ? `${en(value / 1e6, 1)}M` : Math.abs(value) >= 1e4 ? `${en(value / 1e3, 0)}k` : en(value, 0);
  const FORMATS = {
    money: (v) => (v == null ? "—" : `${v < 0 ? "-" : ""}$${en(Math.abs(v), 2)}`),
    percent: (v) => (v == null ? "—" : `${en(v * 100, 1)}%`),
    number: (v) => (v == null ? "—" : Number.isInteger(v) ? en(v, 0) : en(v, 2)),
    seconds: (v) => (v == null ? "—" : v >= 120 ? `${en(v / 60, 1)} min` : `${en(v, 1)} s`),
  };
  const AXIS = {
    money: (v) => `$${compact(v)}`,
    percent: (v) => `${en(v * 100, 0)}%`,
    number: (v) => compact(v),
    seconds: FORMATS.seconds,
  };
  const asList = (value) => (Array.isArray(value) ? value : value ? [value] : []);

  function withFormatters(option) {
    for (const axis of [...asList(option.xAxis), ...asList(option.yAxis)]) {
      if (axis.format) axis.axisLabel = { ...(axis.axisLabel || {}), formatter: AXIS[axis.format] };
    }
    for (const series of asList(option.series)) {
      const format = FORMATS[series.format || "number"];
      series.tooltip = {
        valueFormatter: (value) => format(Array.isArray(value) ? value[1] : value),
      };
    }
    return option;
  }

  function draw(element) {
    const spec = JSON.parse(document.getElementById(element.dataset.echart).textContent);
    const chart = echarts.init(element, null, { renderer: "canvas" });
    chart.setOption(withFormatters(spec.option));
    chart.on("click", (params) => {
      if (params.data && params.data.url) window.location.href = params.data.url;
    });
    new ResizeObserver(() => chart.resize()).observe(element);
    element.dataset.drawn = "true";
  }

  const start = () => document.querySelectorAll("[data-echart]").forEach(draw);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
  // Parts swapped in by htmx (the runs list) bring their charts with them.
  document.addEventListener("htmx:afterSwap", (event) =>
    event.target.querySelectorAll("[data-echart]:not([data-drawn])").forEach(draw),
  );
})();
