// Draws the dashboard's charts from the figures the page carries in data-figures (JSON).
(function () {
  "use strict";
  var colours = ["#2457c5", "#e09b2d", "#1e7b34", "#b3261e"];
  function draw() {
    if (typeof Chart === "undefined") return;
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var figures = JSON.parse(canvas.dataset.figures);
      var datasets = Object.keys(figures.series).map(function (name, i) {
        return { label: name, data: figures.series[name], backgroundColor: colours[i % 4], borderColor: colours[i % 4] };
      });
      new Chart(canvas, {
        type: canvas.dataset.chart,
        data: { labels: figures.labels, datasets: datasets },
        options: { animation: false, responsive: true, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
      });
    });
  }
  document.addEventListener("DOMContentLoaded", draw);
})();
