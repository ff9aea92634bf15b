// Progressive enhancement for the console's maps (Leaflet, vendored): the page's table or
// checkbox list is the real thing, and this script only draws it. Each element with
// data-table names the element holding the items; an item has data-lat and data-lon.
// - Boxes: table rows (data-state visit | ok | disabled, data-label, data-href); a marker
//   opens its box's page.
// - Picking boxes (campaigns): checkboxes; clicking a marker ticks or unticks its box (and
//   opens its group in the list), and ticking the box in the list fills its marker. A picked
//   box is a filled circle, an unpicked one hollow and dashed: the choice shows by shape and
//   in the tooltip, not by colour alone. The element named by data-hint is shown with the map.
const L = window.L;
const COLOURS = { visit: "#d4351c", ok: "#00703c", disabled: "#505a5f" };
const PICKED = "#1d70b8";

function draw(holder) {
  const scope = document.getElementById(holder.dataset.table);
  if (!L || !scope) return;
  const items = [...scope.querySelectorAll("[data-lat][data-lon]")];
  if (!items.length) return;
  holder.hidden = false;
  const hint = holder.dataset.hint && document.getElementById(holder.dataset.hint);
  if (hint) hint.hidden = false;
  holder.setAttribute("role", "region");
  holder.setAttribute("aria-label", holder.dataset.label || "Map of the boxes (the list below has the same boxes)");
  const map = L.map(holder, { scrollWheelZoom: false });
  if (holder.dataset.tiles) {
    L.tileLayer(holder.dataset.tiles, { maxZoom: 19, attribution: holder.dataset.attribution }).addTo(map);
  }
  const bounds = [];
  for (const item of items) {
    const at = [Number(item.dataset.lat), Number(item.dataset.lon)];
    bounds.push(at);
    const box = item.type === "checkbox" ? item : null;
    const style = () =>
      box
        ? box.checked
          ? { radius: 10, color: "#0b0c0c", weight: 2, dashArray: null, fillColor: PICKED, fillOpacity: 0.9 }
          : { radius: 9, color: PICKED, weight: 2, dashArray: "4 3", fillColor: "#ffffff", fillOpacity: 0.6 }
        : { radius: 8, color: "#0b0c0c", weight: 1, fillColor: COLOURS[item.dataset.state] || COLOURS.ok, fillOpacity: 0.9 };
    const marker = L.circleMarker(at, style()).addTo(map);
    const label = item.dataset.label || (box && box.labels[0] ? box.labels[0].textContent.trim() : "");
    const tip = () => (box ? `${label}: ${box.checked ? "picked" : "not picked"}` : label);
    if (label) marker.bindTooltip(tip());
    if (box) {
      marker.on("click", () => {
        box.checked = !box.checked;
        const group = box.closest("details");
        if (group) group.open = true;
        box.dispatchEvent(new Event("change", { bubbles: true }));
      });
      box.addEventListener("change", () => {
        marker.setStyle(style());
        marker.setTooltipContent(tip());
      });
    } else if (item.dataset.href) {
      marker.on("click", () => window.location.assign(item.dataset.href));
    }
  }
  map.fitBounds(bounds, { padding: [30, 30], maxZoom: 17 });
}

for (const holder of document.querySelectorAll("[data-table]")) draw(holder);

// A group of boxes to pick says how many of its boxes are picked, as the boxes are ticked
// (in the list or on the map): "Boxes tagged park (12, 3 picked)".
for (const count of document.querySelectorAll("[data-picked-count]")) {
  const group = count.closest("details");
  const name = count.textContent.replace(/\s*\(.*\)\s*$/, "");
  const update = () => {
    const boxes = group.querySelectorAll("input[type=checkbox]");
    const picked = [...boxes].filter((b) => b.checked).length;
    count.textContent = `${name} (${boxes.length}${picked ? `, ${picked} picked` : ""})`;
  };
  group.addEventListener("change", update);
}

for (const button of document.querySelectorAll("button[data-print]")) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}
