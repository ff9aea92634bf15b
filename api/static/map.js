// Checkpoint map: Web Mercator projection drawn in SVG; optional slippy tiles behind it.
// Text goes into the DOM only through textContent.
"use strict";

(() => {
  const NS = "http://www.w3.org/2000/svg";
  const TILE = 256;
  const EARTH_CIRCUMFERENCE_M = 40075016.686;
  const body = document.body;
  const SLUG = body.dataset.slug;
  const API = body.dataset.api;
  const TILES = body.dataset.tiles || "";
  let game = null;

  const $ = (id) => document.getElementById(id);
  const svgEl = (tag, attrs = {}, cls = "") => {
    const node = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    if (cls) node.setAttribute("class", cls);
    return node;
  };
  const el = (tag, cls, text) => {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = String(text);
    return node;
  };

  // Zoom-0 Web Mercator pixels (0..256 across the world).
  function world(lat, lon) {
    const s = Math.min(0.9999, Math.max(-0.9999, Math.sin((lat * Math.PI) / 180)));
    return [((lon + 180) / 360) * TILE, (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * TILE];
  }

  // Whether a campaign on now adds points at this checkpoint. One that is not active now
  // scores nothing, bonus or not.
  function bonusNow(cp) {
    if (cp.active === false) return false;
    return (game.campaigns || []).some((c) => {
      if (!c.active_now) return false;
      const codes = c.checkpoints || [];
      const tags = c.checkpoint_tags || [];
      if (!codes.length && !tags.length) return true;
      return codes.includes(cp.code) || (cp.tags || []).some((t) => tags.includes(t));
    });
  }

  function drawTiles(svg, view) {
    const z = Math.max(0, Math.min(19, Math.floor(Math.log2(view.scale))));
    const n = 2 ** z;
    const size = (TILE * view.scale) / n; // screen pixels per tile
    const toTile = (wx) => (wx * n) / TILE;
    const x0 = Math.floor(toTile(view.cx - view.w / 2 / view.scale));
    const x1 = Math.floor(toTile(view.cx + view.w / 2 / view.scale));
    const y0 = Math.max(0, Math.floor(toTile(view.cy - view.h / 2 / view.scale)));
    const y1 = Math.min(n - 1, Math.floor(toTile(view.cy + view.h / 2 / view.scale)));
    const layer = svgEl("g", {}, "tiles");
    for (let ty = y0; ty <= y1; ty++) {
      for (let tx = x0; tx <= x1; tx++) {
        const wrapped = ((tx % n) + n) % n;
        const href = TILES.replace("{z}", z)
          .replace("{x}", wrapped)
          .replace("{y}", ty)
          .replace("{s}", "abc"[(wrapped + ty) % 3]);
        const [sx, sy] = view.project([(tx * TILE) / n, (ty * TILE) / n]);
        layer.append(
          svgEl("image", { href, x: sx, y: sy, width: size + 0.5, height: size + 0.5 }),
        );
      }
    }
    svg.append(layer);
    $("attribution").hidden = false;
  }

  function drawGrid(svg, view) {
    const layer = svgEl("g", {}, "grid");
    const step = 80;
    for (let x = (view.w / 2) % step; x < view.w; x += step) {
      layer.append(svgEl("line", { x1: x, y1: 0, x2: x, y2: view.h }, "gridline"));
    }
    for (let y = (view.h / 2) % step; y < view.h; y += step) {
      layer.append(svgEl("line", { x1: 0, y1: y, x2: view.w, y2: y }, "gridline"));
    }
    svg.append(layer);
  }

  // Put each label right, left, above or below its point, whichever first overlaps no
  // point and no label placed before it.
  function placeLabels(pending, w, h) {
    const boxes = pending.map(({ pt, r }) => ({ x: pt[0] - r, y: pt[1] - r, w: 2 * r, h: 2 * r }));
    const hits = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
    for (const { label, pt, r } of pending) {
      const spots = [
        [pt[0] + r + 5, pt[1] + 4, "start"],
        [pt[0] - r - 5, pt[1] + 4, "end"],
        [pt[0], pt[1] - r - 6, "middle"],
        [pt[0], pt[1] + r + 15, "middle"],
      ];
      let chosen = null;
      for (const [x, y, anchor] of spots) {
        label.setAttribute("x", x);
        label.setAttribute("y", y);
        label.setAttribute("text-anchor", anchor);
        const bb = label.getBBox();
        const box = { x: bb.x - 2, y: bb.y - 1, w: bb.width + 4, h: bb.height + 2 };
        const inside = box.x >= 0 && box.y >= 0 && box.x + box.w <= w && box.y + box.h <= h;
        if (inside && !boxes.some((b) => hits(b, box))) {
          chosen = box;
          break;
        }
      }
      if (!chosen) {
        const [x, y, anchor] = spots[pt[0] < w - 200 ? 0 : 1];
        label.setAttribute("x", x);
        label.setAttribute("y", y);
        label.setAttribute("text-anchor", anchor);
        const bb = label.getBBox();
        chosen = { x: bb.x, y: bb.y, w: bb.width, h: bb.height };
      }
      boxes.push(chosen);
    }
  }

  function drawScale(view, lat) {
    const metresPerPixel = (EARTH_CIRCUMFERENCE_M * Math.cos((lat * Math.PI) / 180)) / (TILE * view.scale);
    const target = metresPerPixel * 120;
    const p = 10 ** Math.floor(Math.log10(target));
    const nice = [1, 2, 5, 10].map((m) => m * p).filter((d) => d <= target).pop() || p;
    $("scale-bar").style.width = `${Math.round(nice / metresPerPixel)}px`;
    $("scale-text").textContent = nice >= 1000 ? `${nice / 1000} km` : `${nice} m`;
  }

  function draw() {
    const svg = $("svg");
    const w = svg.clientWidth || 800;
    const h = svg.clientHeight || 600;
    svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
    svg.replaceChildren();
    const cps = (game.checkpoints || []).filter(
      (cp) => Number.isFinite(cp.lat) && Number.isFinite(cp.lon),
    );
    if (!cps.length) return;
    const pts = cps.map((cp) => world(cp.lat, cp.lon));
    const xs = pts.map((p) => p[0]);
    const ys = pts.map((p) => p[1]);
    const minX = Math.min(...xs), maxX = Math.max(...xs);
    const minY = Math.min(...ys), maxY = Math.max(...ys);
    const pad = 70;
    const span = (a) => Math.max(a, 1e-6);
    const scale = Math.min(
      2 ** 18,
      (w - 2 * pad) / span(maxX - minX),
      (h - 2 * pad) / span(maxY - minY),
    );
    const view = {
      w, h, scale,
      cx: (minX + maxX) / 2,
      cy: (minY + maxY) / 2,
      project: ([x, y]) => [w / 2 + (x - view.cx) * scale, h / 2 + (y - view.cy) * scale],
    };
    if (TILES) drawTiles(svg, view);
    else drawGrid(svg, view);

    const labels = cps.length <= 30 ? "full" : cps.length <= 150 ? "code" : "none";
    const marks = svgEl("g", {}, "marks");
    const text = svgEl("g", {}, "labels");
    const order = cps.map((cp, i) => ({ cp, pt: view.project(pts[i]), hot: bonusNow(cp) }));
    order.sort((a, b) => Number(a.hot) - Number(b.hot)); // campaign checkpoints on top
    const pending = [];
    for (const { cp, pt, hot } of order) {
      const park = (cp.tags || []).includes("park");
      const inactive = cp.active === false;
      const g = svgEl("g", {}, `checkpoint${park ? " park" : ""}${hot ? " campaign" : ""}${inactive ? " inactive" : ""}`);
      g.dataset.code = cp.code;
      g.dataset.park = String(park);
      g.dataset.campaign = String(hot);
      const title = svgEl("title");
      const tags = (cp.tags || []).length ? ` (${cp.tags.join(", ")})` : "";
      title.textContent = `${cp.code} · ${cp.name}${tags}${hot ? " · bonus points now" : ""}`;
      g.append(title);
      if (hot) g.append(svgEl("circle", { cx: pt[0], cy: pt[1], r: 16 }, "halo"));
      g.append(svgEl("circle", { cx: pt[0], cy: pt[1], r: 9 }, `cp${park ? " park" : ""}${inactive ? " inactive" : ""}`));
      marks.append(g);
      if (labels !== "none") {
        const label = svgEl("text", {}, "label");
        const code = svgEl("tspan", {}, "code");
        code.textContent = cp.code;
        label.append(code);
        if (labels === "full") {
          const name = svgEl("tspan");
          name.textContent = ` ${cp.name}`;
          label.append(name);
        }
        text.append(label);
        pending.push({ label, pt, r: hot ? 17 : 10 });
      }
    }
    svg.append(marks, text);
    placeLabels(pending, w, h);
    svg.append(marks, text);
    drawScale(view, (Math.min(...cps.map((c) => c.lat)) + Math.max(...cps.map((c) => c.lat))) / 2);
  }

  function when(value) {
    try {
      return new Date(value).toLocaleString("en-GB", {
        timeZone: game.timezone || "UTC", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
      });
    } catch (err) {
      return String(value);
    }
  }

  function describe() {
    $("game-name").textContent = game.name || SLUG;
    document.title = `${game.name || SLUG} — Checkpoint map`;
    const cps = game.checkpoints || [];
    const parks = cps.filter((cp) => (cp.tags || []).includes("park")).length;
    const on = (game.campaigns || []).filter((c) => c.active_now);
    $("summary").textContent =
      `${cps.length} checkpoint${cps.length === 1 ? "" : "s"} · ${parks} in parks · ` +
      `${on.length} campaign${on.length === 1 ? "" : "s"} on now`;
    const list = $("campaigns");
    list.replaceChildren(
      ...on.map((c) => {
        const li = el("li");
        li.append(el("span", "mult", `×${c.multiplier}`), el("span", "", c.name));
        li.append(el("span", "when", `until ${when(c.ends_at)}`));
        return li;
      }),
    );
    $("no-campaigns").hidden = on.length > 0;
  }

  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => game && draw(), 150);
  });

  fetch(`${API}/games/${encodeURIComponent(SLUG)}`, { headers: { Accept: "application/json" } })
    .then((r) => {
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      return r.json();
    })
    .then((data) => {
      game = data;
      describe();
      draw();
      body.dataset.ready = "true";
    })
    .catch((err) => {
      $("summary").textContent = `Could not load the game (${err.message}).`;
      body.dataset.ready = "error";
    });
})();
