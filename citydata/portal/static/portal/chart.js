// Draws the chart of /datasets/<slug>/chart/ with ECharts from the JSON the server embedded.
// Without this file (or without script) the page still shows the same numbers as a table.
(function () {
  var holder = document.getElementById("chart");
  var source = document.getElementById("chart-data");
  if (!holder || !source || !window.echarts) {
    return;
  }
  var data = JSON.parse(source.textContent);
  var narrow = window.matchMedia && window.matchMedia("(max-width: 800px)").matches;
  var option = { tooltip: {}, grid: { left: 56, right: 40, top: 24, bottom: narrow ? 96 : 72, containLabel: true } };
  if (data.kind === "pie") {
    option.tooltip = { trigger: "item", formatter: "{b}: {c} ({d}%)" };
    option.series = [{
      type: "pie",
      radius: narrow ? "55%" : "65%",
      data: data.labels.map(function (label, i) { return { name: label === null ? "—" : String(label), value: data.values[i] }; })
    }];
  } else if (data.kind === "scatter" || data.kind === "map") {
    option.tooltip = {
      trigger: "item",
      formatter: function (p) { return (p.value[2] ? p.value[2] + "<br>" : "") + p.value[0] + ", " + p.value[1]; }
    };
    option.xAxis = { type: "value", name: data.x_title, scale: true };
    option.yAxis = { type: "value", name: data.y_title, scale: true };
    option.series = [{ type: "scatter", symbolSize: data.kind === "map" ? 5 : 7, data: data.points }];
  } else {
    option.tooltip = { trigger: "axis" };
    option.xAxis = {
      type: "category",
      name: data.x_title,
      data: data.labels.map(function (label) { return label === null ? "—" : String(label); }),
      axisLabel: { rotate: data.labels.length > 8 ? 45 : 0 }
    };
    option.yAxis = { type: "value", name: data.y_title };
    option.series = [{ type: data.kind, data: data.values, smooth: false, showSymbol: data.values.length < 60 }];
    if (data.labels.length > 30) {
      option.dataZoom = [{ type: "inside" }, { type: "slider" }];
    }
  }
  // The table repeats the chart: fold it before drawing so the chart takes the width the page gives it.
  var table = document.querySelector("details.chart-table");
  if (table) {
    table.removeAttribute("open");
  }
  var chart = window.echarts.init(holder, null, { renderer: "canvas" });
  chart.setOption(option);
  holder.setAttribute("data-drawn", String(data.kind === "scatter" || data.kind === "map" ? data.points.length : data.values.length));
  window.addEventListener("resize", function () { chart.resize(); });
})();
