// Progressive enhancement for a game's Overview: the tables are the page; this script
// draws each table with data-chart as a Chart.js chart (vendored UMD build) above it, and
// refreshes today's figures from the page's JSON every 30 seconds.
const Chart = window.Chart;
const COLOURS = ["#1d70b8", "#f47738"];

function chart(table) {
  const canvas = document.getElementById(table.dataset.chart);
  if (!Chart || !canvas) return;
  const rows = [...table.tBodies[0].rows];
  if (table.id === "days-table") rows.reverse(); // oldest first, left to right
  const heads = [...table.tHead.rows[0].cells].map((c) => c.textContent.trim());
  const series = table.dataset.series.split(",").map(Number);
  const value = (cell) => {
    const n = Number.parseFloat(cell.textContent.replace(/,/g, ""));
    return Number.isFinite(n) ? n : null;
  };
  canvas.parentElement.hidden = false;
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: rows.map((r) => r.cells[0].textContent.trim()),
      datasets: series.map((i, k) => ({
        label: heads[i],
        data: rows.map((r) => value(r.cells[i])),
        backgroundColor: COLOURS[k % COLOURS.length],
      })),
    },
    options: {
      maintainAspectRatio: false,
      animation: false,
      scales: { y: { beginAtZero: true } },
      plugins: { legend: { labels: { color: "#0b0c0c" } } },
    },
  });
}

for (const table of document.querySelectorAll("table[data-chart]")) chart(table);

const live = document.getElementById("live");
if (live) {
  const stamp = live.querySelector("[data-updated]");
  const refresh = async () => {
    try {
      const answer = await fetch(live.dataset.source, { headers: { Accept: "application/json" } });
      if (!answer.ok) return;
      const body = await answer.json();
      const figures = { ...body.today, boxes_needing_a_visit: body.boxes_needing_a_visit };
      for (const el of live.querySelectorAll("[data-figure]")) {
        const v = figures[el.dataset.figure];
        if (v !== undefined) el.textContent = String(v);
      }
      stamp.hidden = false;
      stamp.textContent = `Updated at ${new Date().toLocaleTimeString()}.`;
    } catch {
      // Offline for a moment: the figures shown stay, and the next poll tries again.
    }
  };
  setInterval(refresh, 30000);
}
