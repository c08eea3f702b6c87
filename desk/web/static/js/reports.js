// Report charts: the numbers come from the page's JSON block (#report-data); every chart
// has a table with the same numbers beside it, so the charts are decoration for sighted users.
(function () {
  const source = document.getElementById("report-data");
  if (!source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const palette = ["#0b5394", "#a40e26", "#7d4e00", "#116329", "#4a5563"];
  const common = { responsive: true, maintainAspectRatio: false, animation: false };

  function draw(id, config) {
    const canvas = document.getElementById(id);
    if (canvas) new Chart(canvas, config);
  }

  function seriesDatasets(series) {
    return series.map((item, index) => ({
      label: item.label, data: item.values, backgroundColor: palette[index % palette.length],
      borderColor: palette[index % palette.length],
    }));
  }

  draw("chart-containment", {
    type: "doughnut",
    data: { labels: data.containment.labels, datasets: [{ data: data.containment.values, backgroundColor: [palette[3], palette[0], palette[1]] }] },
    options: common,
  });
  draw("chart-escalations", {
    type: "line",
    data: { labels: data.escalations.labels, datasets: seriesDatasets(data.escalations.series) },
    options: { ...common, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
  draw("chart-response_times", {
    type: "bar",
    data: { labels: data.response_times.labels, datasets: seriesDatasets(data.response_times.series) },
    options: { ...common, scales: { y: { beginAtZero: true, title: { display: true, text: "ore lavorative" } } } },
  });
  draw("chart-topics", {
    type: "bar",
    data: { labels: data.topics.labels, datasets: [{ label: "Risposte date", data: data.topics.values, backgroundColor: palette[0] }] },
    options: { ...common, indexAxis: "y", scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
  draw("chart-satisfaction", {
    type: "bar",
    data: { labels: data.satisfaction.labels, datasets: seriesDatasets(data.satisfaction.series).map((set, index) => ({ ...set, backgroundColor: [palette[3], palette[1]][index] })) },
    options: { ...common, indexAxis: "y", scales: { x: { stacked: true, beginAtZero: true, ticks: { precision: 0 } }, y: { stacked: true } } },
  });
  for (const name of ["channels", "languages"]) {
    draw(`chart-${name}`, {
      type: "bar",
      data: { labels: data[name].labels, datasets: seriesDatasets(data[name].series) },
      options: { ...common, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
    });
  }
})();
