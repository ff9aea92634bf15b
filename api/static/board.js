// Live hall-screen board. Text goes into the DOM only through textContent. Its words, in
// the page's language, are the JSON in #board-words (api/family/board.py).
"use strict";

(() => {
  const body = document.body;
  const SLUG = body.dataset.slug;
  const API = body.dataset.api;
  const LANG = document.documentElement.lang || "en";
  const WORDS = JSON.parse(document.getElementById("board-words").textContent);
  // A word with its %(name)s filled in.
  const say = (key, values = {}) =>
    WORDS[key].replace(/%\((\w+)\)s/g, (_, name) => String(values[name]));
  const CLOCK = { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false };
  const BYS = ["total", "average", "distance", "players"];
  const KINDS = ["school", "community", "workplace", "family", "other"];
  const params = new URLSearchParams(location.search);
  const pick = (value, allowed, fallback) => (allowed.includes(value) ? value : fallback);
  const clamp = (n, lo, hi) => Math.min(hi, Math.max(lo, n));

  const state = {
    by: pick(params.get("by"), BYS, "total"),
    kind: pick(params.get("kind"), KINDS, ""),
    rows: clamp(parseInt(params.get("rows"), 10) || 10, 3, 20),
    rotate: clamp(parseInt(params.get("rotate"), 10) || 0, 0, 600),
    team: (params.get("team") || "").trim().toUpperCase().slice(0, 64), // row to highlight
    boards: {}, // board name -> last message
    seen: new Set(), // boards received on the current connection
    previous: new Map(), // row key -> value shown, to flash changes
    ws: null,
    attempt: 0,
    retryAt: 0,
    retryTimer: null,
    tick: null,
    updatedAt: null,
  };

  const $ = (id) => document.getElementById(id);
  const el = (tag, cls, text) => {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = String(text);
    return node;
  };
  const fmt = (n, digits = 0) =>
    Number(n).toLocaleString(`${LANG}-GB`, {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });

  const boardName = () => (state.by === "players" ? "players" : `teams-${state.by}`);

  // ---- connection -------------------------------------------------------------------
  function socketUrl() {
    const q = new URLSearchParams({ boards: "teams-total,teams-average,teams-distance,players" });
    if (state.kind) q.set("kind", state.kind);
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    return `${proto}//${location.host}${API}/games/${encodeURIComponent(SLUG)}/live?${q}`;
  }

  function connect() {
    clearTimeout(state.retryTimer);
    state.seen = new Set();
    let ws;
    try {
      ws = new WebSocket(socketUrl());
    } catch (err) {
      scheduleReconnect(0);
      return;
    }
    state.ws = ws;
    setStatus(state.attempt ? "reconnecting" : "connecting");
    ws.onmessage = (event) => {
      if (ws !== state.ws) return;
      let msg;
      try {
        msg = JSON.parse(event.data);
      } catch (err) {
        return;
      }
      if (!msg || msg.type !== "leaderboard" || !Array.isArray(msg.entries)) return;
      const current = state.boards[msg.board];
      // The first message of a board on a connection is a full snapshot: take it even if
      // its version is lower (the server may have restarted). After that, never go back.
      if (state.seen.has(msg.board) && current && current.version > msg.version) return;
      state.seen.add(msg.board);
      state.boards[msg.board] = msg;
      state.attempt = 0;
      state.updatedAt = new Date();
      setStatus("live");
      if (msg.board === boardName() && !state.paused) render();
    };
    ws.onclose = (event) => {
      if (ws !== state.ws) return; // replaced on purpose (kind changed)
      state.ws = null;
      scheduleReconnect(event.code);
    };
  }

  function reconnectNow() {
    const old = state.ws;
    state.ws = null;
    if (old) old.close(1000, "changing boards");
    state.attempt = 0;
    connect();
  }

  function scheduleReconnect(code) {
    // 1 s, 2 s, 4 s ... up to 30 s, with jitter so a hall full of screens does not stampede.
    const base = code === 4404 ? 30 : Math.min(30, 2 ** state.attempt);
    const delay = base * (0.8 + Math.random() * 0.4);
    state.attempt += 1;
    state.retryAt = Date.now() + delay * 1000;
    clearTimeout(state.retryTimer);
    state.retryTimer = setTimeout(connect, delay * 1000);
    setStatus(code === 4404 ? "missing" : "down");
  }

  function setStatus(kind) {
    const live = kind === "live";
    const status = $("status");
    status.dataset.state = live ? "live" : kind === "connecting" ? "connecting" : "down";
    body.dataset.connection = status.dataset.state;
    $("status-text").textContent = say(
      live ? "status.live" : kind === "connecting" ? "status.connecting" : "status.offline",
    );
    body.classList.toggle("stale", !live && kind !== "connecting");
    $("banner").hidden = live || kind === "connecting";
    clearInterval(state.tick);
    if (kind === "down" || kind === "missing" || kind === "reconnecting") {
      const show = () => {
        const left = Math.max(0, Math.ceil((state.retryAt - Date.now()) / 1000));
        const what = say(kind === "missing" ? "banner.missing" : "banner.down");
        $("banner-text").textContent =
          kind === "reconnecting" || left === 0
            ? say("banner.now", { what })
            : say("banner.soon", { what, seconds: left });
      };
      show();
      state.tick = setInterval(show, 500);
    }
  }

  // ---- rendering ----------------------------------------------------------------------
  function rowParts(entry) {
    if (state.by === "players") {
      return {
        key: `p:${entry.nickname}`,
        name: entry.nickname,
        sub: `${fmt(entry.distance_km, 1)} ${say("unit.km")}`,
        value: fmt(entry.points),
        unit: say("unit.points"),
      };
    }
    const kind = WORDS[`kind.${entry.kind}`] || entry.kind;
    const points = `${fmt(entry.points)} ${say("unit.points")}`;
    const km = `${fmt(entry.distance_km, 1)} ${say("unit.km")}`;
    const members = say(entry.active_members === 1 ? "members.one" : "members.other", {
      count: fmt(entry.active_members),
    });
    if (state.by === "average") {
      const parts = [kind, points, members].concat(entry.eligible ? [] : [say("not_eligible")]);
      return {
        key: `t:${entry.team}`,
        name: entry.name,
        sub: parts.join(" · "),
        value: fmt(entry.average, 1),
        unit: say("unit.per_member"),
        faded: !entry.eligible,
      };
    }
    if (state.by === "distance") {
      return {
        key: `t:${entry.team}`,
        name: entry.name,
        sub: `${kind} · ${points}`,
        value: fmt(entry.distance_km, 1),
        unit: say("unit.km"),
      };
    }
    return {
      key: `t:${entry.team}`,
      name: entry.name,
      sub: `${kind} · ${members} · ${km}`,
      value: fmt(entry.points),
      unit: say("unit.points"),
    };
  }

  function render() {
    const name = boardName();
    const msg = state.boards[name];
    const kindLabel = state.kind && state.by !== "players" ? ` — ${say(`kinds.${state.kind}`)}` : "";
    $("board-title").textContent = say(`title.${state.by}`) + kindLabel;
    for (const b of document.querySelectorAll("#by-tabs button")) {
      b.setAttribute("aria-pressed", String(b.dataset.by === state.by));
    }
    for (const b of document.querySelectorAll("#kind-tabs button")) {
      b.setAttribute("aria-pressed", String(b.dataset.kind === state.kind));
    }
    $("kind-tabs").hidden = state.by === "players";

    const list = $("board");
    const frag = document.createDocumentFragment();
    const entries = msg ? msg.entries.slice(0, state.rows) : [];
    for (const entry of entries) {
      const parts = rowParts(entry);
      const li = el("li", "row");
      li.dataset.rank = String(entry.rank);
      li.dataset.key = parts.key;
      if (parts.faded) li.classList.add("ineligible");
      if (state.team && entry.team === state.team) {
        li.classList.add("mine");
        li.setAttribute("aria-current", "true");
      }
      const prevKey = `${name}|${msg.kind}|${parts.key}`;
      const before = state.previous.get(prevKey);
      if (before !== undefined && before !== parts.value) li.classList.add("bump");
      state.previous.set(prevKey, parts.value);
      li.append(el("span", "rank", entry.rank));
      const who = el("span", "who");
      who.append(el("span", "name", parts.name), el("span", "sub", parts.sub));
      li.append(who);
      const value = el("span", "value", parts.value);
      value.append(el("span", "unit", parts.unit));
      li.append(value);
      frag.append(li);
    }
    list.replaceChildren(frag);
    $("empty").hidden = !msg || entries.length > 0;
    $("note").textContent = state.by === "average" ? say("note.average") : "";
    $("updated").textContent = state.updatedAt
      ? say("updated", { time: state.updatedAt.toLocaleTimeString(`${LANG}-GB`, CLOCK) })
      : "";
    announce(name, entries[0]);
    body.dataset.version = msg ? String(msg.version) : "";
  }

  // Screen readers hear (politely) who leads when that changes, not every redraw.
  function announce(name, top) {
    const said = top ? `${name}|${rowParts(top).name}` : "";
    if (!top || said === state.announced) return;
    const first = state.announced === undefined;
    state.announced = said;
    if (first) return; // the board as it opens is read from the page itself
    const parts = rowParts(top);
    $("announce").textContent = say("first", {
      name: parts.name,
      value: parts.value,
      unit: parts.unit,
    });
  }

  // Pausing stops the rotation and the redraws (WCAG 2.2.2); resuming shows the latest.
  $("pause").addEventListener("click", () => {
    state.paused = !state.paused;
    $("pause").setAttribute("aria-pressed", String(state.paused));
    $("pause").textContent = say(state.paused ? "resume" : "pause");
    if (!state.paused) render();
  });

  // Size rows so exactly `rows` of them fill the screen below the tabs.
  function fitRows() {
    const main = document.querySelector("main");
    const gap = parseFloat(getComputedStyle($("board")).rowGap) || 0;
    const height = (main.clientHeight - gap * (state.rows - 1)) / state.rows;
    document.documentElement.style.setProperty("--row", `${clamp(height, 36, 160)}px`);
  }

  // ---- controls -----------------------------------------------------------------------
  function saveUrl() {
    const q = new URLSearchParams(location.search);
    q.set("by", state.by);
    if (state.kind) q.set("kind", state.kind);
    else q.delete("kind");
    history.replaceState(null, "", `${location.pathname}?${q}`);
  }

  $("by-tabs").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-by]");
    if (!button) return;
    state.by = button.dataset.by;
    saveUrl();
    render();
  });

  $("kind-tabs").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-kind]");
    if (!button || button.dataset.kind === state.kind) return;
    state.kind = button.dataset.kind;
    for (const key of Object.keys(state.boards)) if (key !== "players") delete state.boards[key];
    saveUrl();
    render();
    reconnectNow();
  });

  if (state.rotate) {
    setInterval(() => {
      if (state.paused) return;
      state.by = BYS[(BYS.indexOf(state.by) + 1) % BYS.length];
      render();
    }, state.rotate * 1000);
  }

  fetch(`${API}/games/${encodeURIComponent(SLUG)}`, { headers: { Accept: "application/json" } })
    .then((r) => (r.ok ? r.json() : null))
    .then((game) => {
      if (game && typeof game.name === "string") {
        $("game-name").textContent = game.name;
        document.title = say("page_title", { game: game.name });
      }
    })
    .catch(() => {});

  // The banner, the footer and the window all change the room left for rows.
  new ResizeObserver(fitRows).observe(document.querySelector("main"));
  fitRows();
  render();
  connect();
})();
