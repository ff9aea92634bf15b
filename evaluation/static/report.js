// The evaluation report page: fetches the disclosure-controlled JSON report with the token the
// reader pasted in its form (kept in sessionStorage for this tab only, sent only as an
// Authorization header, never in an address) and draws tables and inline SVG charts. Text goes
// into the DOM only as text (textContent), never as HTML.
"use strict";

(function () {
  const body = document.body;
  const slug = body.dataset.slug;
  const api = body.dataset.api;
  const TOKEN_KEY = "taptrail-report-token:" + slug;
  const SVG_NS = "http://www.w3.org/2000/svg";
  const COLOURS = {
    players: "#0b6e69",
    residents: "#a9b4bf",
    before: "#b7c9dd",
    after: "#1f4e8c",
    grid: "#d5dbe1",
    ink: "#1d2733",
    muted: "#566270",
    warn: "#9a3412",
  };
  const QUINTILES = ["Q1", "Q2", "Q3", "Q4", "Q5"];
  const LABELS = {
    Q1: "Q1 · most deprived 20%",
    Q2: "Q2",
    Q3: "Q3",
    Q4: "Q4",
    Q5: "Q5 · least deprived 20%",
    other: "Other or not known",
    total: "Whole game",
  };
  const SHORT = { Q1: "Q1 most deprived", Q2: "Q2", Q3: "Q3", Q4: "Q4", Q5: "Q5 least deprived", total: "Whole game" };
  const NATIONS = { england: "England", wales: "Wales", scotland: "Scotland", northern_ireland: "Northern Ireland" };
  const WAVES = {
    wave_2: "From registration to the end of the game",
    wave_3: "From registration to the six-month follow-up",
  };
  const SUPPRESSED_TITLE = "Suppressed to protect privacy";

  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = String(value);
      else if (key === "class") node.className = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  // ------------------------------------------------------------------ formatting

  const isNumber = (v) => typeof v === "number" && Number.isFinite(v);

  function fmt(value, kind) {
    if (value === "*") return "*";
    if (!isNumber(value)) return "–";
    switch (kind) {
      case "count":
        return value.toLocaleString("en-GB");
      case "pct":
        return value.toFixed(1) + "%";
      case "rate":
        return value.toLocaleString("en-GB", { maximumFractionDigits: 1, minimumFractionDigits: 1 });
      case "change":
        return (value > 0 ? "+" : value < 0 ? "−" : "") + Math.abs(value).toFixed(2);
      case "mean":
        return value.toFixed(2);
      case "signed":
        return (value < 0 ? "−" : "") + Math.abs(value).toFixed(2);
      case "p":
        return value < 0.001 ? "< 0.001" : value.toFixed(3);
      default:
        return String(value);
    }
  }

  function valueNode(value, kind) {
    if (value === "*") return el("span", { class: "suppressed", title: SUPPRESSED_TITLE, text: "*" });
    if (!isNumber(value)) return el("span", { class: "na", title: "Not applicable", text: "–" });
    return document.createTextNode(fmt(value, kind));
  }

  function pair(before, after, kind) {
    return el("span", { class: "pair" }, valueNode(before, kind), " → ", valueNode(after, kind));
  }

  function interval(mean, low, high) {
    if (!isNumber(mean)) return valueNode(mean, "change");
    const span = el("span", {}, el("span", { class: "value-main" }, valueNode(mean, "change")));
    if (isNumber(low) && isNumber(high)) {
      span.append(el("span", { class: "ci", text: `${fmt(low, "change")} to ${fmt(high, "change")}` }));
    }
    return span;
  }

  // ------------------------------------------------------------------ tables

  const TABLE_GROUPS = [...QUINTILES, "other", "total"];

  // Table rows for every group (quintiles, other, whole game): cells(values, group) gives a row's cells.
  function groupRows(groups, cells) {
    return TABLE_GROUPS.map((g) => ({ group: g, cells: cells(groups[g], g) }));
  }

  function table(caption, headers, rows) {
    const thead = el("thead", {}, el("tr", {}, headers.map((h) => el("th", { scope: "col", text: h }))));
    const tbody = el("tbody");
    for (const row of rows) {
      const tr = el("tr", { class: row.group === "total" ? "total" : null });
      tr.append(el("th", { scope: "row", text: LABELS[row.group] || row.group }));
      for (const cell of row.cells) tr.append(el("td", {}, cell));
      tbody.append(tr);
    }
    return el("div", { class: "table-wrap" }, el("table", {}, el("caption", { text: caption }), thead, tbody));
  }

  // ------------------------------------------------------------------ charts

  function niceMax(values) {
    const max = Math.max(10, ...values.filter(isNumber));
    return Math.ceil(max / 10) * 10;
  }

  function legend(items) {
    return el(
      "div",
      { class: "legend" },
      items.map(([cls, label]) => el("span", {}, el("span", { class: "swatch " + cls }), label)),
      el("span", {}, el("span", { class: "suppressed", text: "*" }), " hidden to protect privacy"),
    );
  }

  // Horizontal grouped bars: one row per group, one bar per series, values in percent.
  function barChart({ title, caption, groups, series, width = 560 }) {
    const labelW = 150;
    const valueW = 56;
    const barH = 15;
    const gap = 3;
    const rowGap = 14;
    const top = 28;
    const plotW = width - labelW - valueW;
    const rowH = series.length * (barH + gap) - gap;
    const height = top + groups.length * (rowH + rowGap) + 4;
    const all = groups.flatMap((g) => series.map((s) => s.values[g]));
    const max = niceMax(all);
    const x = (v) => labelW + (plotW * v) / max;
    const root = svg("svg", {
      viewBox: `0 0 ${width} ${height}`,
      width,
      height,
      role: "img",
      "aria-label": title,
    });
    root.append(svg("title", {}, title));
    for (let tick = 0; tick <= max; tick += max > 50 ? 20 : 10) {
      root.append(svg("line", { x1: x(tick), x2: x(tick), y1: top - 6, y2: height - 4, stroke: COLOURS.grid }));
      root.append(
        svg("text", { x: x(tick), y: top - 10, "text-anchor": "middle", "font-size": 12, fill: COLOURS.muted }, tick + "%"),
      );
    }
    groups.forEach((group, i) => {
      const y0 = top + i * (rowH + rowGap);
      root.append(
        svg(
          "text",
          {
            x: labelW - 8,
            y: y0 + rowH / 2 + 5,
            "text-anchor": "end",
            "font-size": 13,
            "font-weight": group === "total" ? 700 : 400,
            fill: COLOURS.ink,
          },
          SHORT[group] || group,
        ),
      );
      series.forEach((s, j) => {
        const v = s.values[group];
        const y = y0 + j * (barH + gap);
        if (isNumber(v)) {
          const w = Math.max(0, x(v) - labelW);
          const bar = svg("rect", { x: labelW, y, width: w, height: barH, fill: s.colour });
          bar.append(svg("title", {}, `${SHORT[group] || group}, ${s.label}: ${fmt(v, "pct")}`));
          root.append(bar);
          root.append(
            svg("text", { x: labelW + w + 5, y: y + barH - 3, "font-size": 12, fill: COLOURS.ink }, fmt(v, "pct")),
          );
        } else {
          const suppressed = v === "*";
          root.append(
            svg(
              "text",
              {
                x: labelW + 5,
                y: y + barH - 3,
                "font-size": 13,
                "font-weight": suppressed ? 700 : 400,
                fill: suppressed ? COLOURS.warn : COLOURS.muted,
                class: suppressed ? "chart-suppressed" : "chart-na",
              },
              suppressed ? "*" : "–",
            ),
          );
        }
      });
    });
    return el("figure", { class: "chart" }, caption ? el("figcaption", { text: caption }) : null, root, chartTools(root, title));
  }

  // ------------------------------------------------------------------ chart downloads

  function fileName(title, ext) {
    const stem = title.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 80);
    return `${slug}-${stem || "chart"}.${ext}`;
  }

  function saveBlob(blob, name) {
    const url = URL.createObjectURL(blob);
    const link = el("a", { href: url, download: name });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  // The chart as a standalone SVG document (white background, fonts named).
  function svgText(root) {
    const copy = root.cloneNode(true);
    copy.setAttribute("xmlns", SVG_NS);
    copy.setAttribute("font-family", "Arial, Helvetica, sans-serif");
    const [, , w, h] = copy.getAttribute("viewBox").split(" ");
    copy.insertBefore(svg("rect", { x: 0, y: 0, width: w, height: h, fill: "#ffffff" }), copy.firstChild);
    return new XMLSerializer().serializeToString(copy);
  }

  function savePng(root, name) {
    const text = svgText(root);
    const [, , w, h] = root.getAttribute("viewBox").split(" ").map(Number);
    const image = new Image();
    image.onload = () => {
      const scale = 2;
      const canvas = el("canvas", { width: w * scale, height: h * scale });
      const ctx = canvas.getContext("2d");
      ctx.scale(scale, scale);
      ctx.drawImage(image, 0, 0, w, h);
      canvas.toBlob((blob) => blob && saveBlob(blob, name), "image/png");
    };
    image.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(text);
  }

  // Download buttons under a chart (the table beside it always holds the same numbers).
  function chartTools(root, title) {
    const svgButton = el("button", { type: "button", class: "quiet small", text: "Download chart (SVG)" });
    svgButton.addEventListener("click", () =>
      saveBlob(new Blob([svgText(root)], { type: "image/svg+xml" }), fileName(title, "svg")),
    );
    const pngButton = el("button", { type: "button", class: "quiet small", text: "Download chart (PNG)" });
    pngButton.addEventListener("click", () => savePng(root, fileName(title, "png")));
    return el("div", { class: "chart-tools" }, svgButton, pngButton);
  }

  // One bar series: a metric of every group.
  function series(label, colour, groups, metric) {
    const values = {};
    for (const [g, metrics] of Object.entries(groups)) values[g] = metrics[metric];
    return { label, colour, values };
  }

  // A paired percentage (metric_before_pct, metric_after_pct) by quintile and for the whole game.
  function beforeAfterChart(groups, metric, caption) {
    return barChart({
      title: caption + ", before and after",
      caption,
      groups: [...QUINTILES, "total"],
      series: [
        series("before", COLOURS.before, groups, metric + "_before_pct"),
        series("after", COLOURS.after, groups, metric + "_after_pct"),
      ],
    });
  }

  // ------------------------------------------------------------------ sections

  function card(value, label) {
    return el("div", { class: "card" }, el("div", { class: "value", text: value }), el("div", { class: "label", text: label }));
  }

  function glance(report) {
    const cards = $("glance-cards");
    cards.replaceChildren();
    const first = Object.values(report.nations)[0];
    const total = first ? first.uptake.groups.total : {};
    cards.append(card(fmt(report.players, "count"), "players registered"));
    if (first) {
      cards.append(card(fmt(total.players_in_area, "count"), "players living in the game area"));
      cards.append(card(fmt(total.rate_per_1000, "rate"), "players per 1,000 residents of the area"));
      const measure = first[(report.measures || ["activity"])[0]];
      const follow = measure && measure.wave_2 ? measure.wave_2.groups.total.follow_up_pct : null;
      cards.append(card(fmt(follow, "pct"), "answered again at the end of the game"));
    }
    const labels = {
      wave_1: "survey answers at registration",
      wave_2: "survey answers at the end of the game",
      wave_3: "survey answers at the six-month follow-up",
    };
    for (const [wave, block] of Object.entries(report.survey_responses || {})) {
      cards.append(card(fmt(block.responses, "count"), labels[wave] || block.title));
    }
    const districts = (report.area.districts || []).map((d) => (d.name ? `${d.name} (${d.code})` : d.code));
    $("area-text").textContent = districts.length
      ? `Game area: ${districts.join(", ")}, ${fmt(report.area.small_areas, "count")} neighbourhoods (LSOAs); ${report.area.definition}.`
      : `Game area: ${report.area.definition}.`;
  }

  function uptakeSection(nation, section, heading) {
    const groups = section.uptake.groups;
    const q1 = groups.Q1 || {};
    const parts = [];
    if (isNumber(q1.share_of_players_pct) && isNumber(q1.share_of_residents_pct)) {
      parts.push(
        `People from the most deprived 20% of neighbourhoods (Q1) are ${fmt(q1.share_of_players_pct, "pct")} of players ` +
          `and ${fmt(q1.share_of_residents_pct, "pct")} of the area's residents.`,
      );
    }
    if (isNumber(groups.total.rate_per_1000)) {
      parts.push(`Overall, ${fmt(groups.total.rate_per_1000, "rate")} in every 1,000 residents of the game area took part.`);
    }
    const chart = barChart({
      title: "Share of players and share of residents by deprivation quintile",
      caption: "Share of players beside share of residents, by deprivation quintile",
      groups: QUINTILES,
      series: [
        series("share of players", COLOURS.players, groups, "share_of_players_pct"),
        series("share of residents", COLOURS.residents, groups, "share_of_residents_pct"),
      ],
      width: 720,
    });
    const rows = groupRows(groups, (v, g) => [
      valueNode(v.players, "count"),
      valueNode(v.residents, "count"),
      valueNode(v.rate_per_1000, "rate"),
      valueNode(g === "other" ? null : v.share_of_players_pct, "pct"),
      valueNode(g === "other" ? null : v.share_of_residents_pct, "pct"),
    ]);
    return el(
      "section",
      { class: "uptake", "data-nation": nation },
      el("h2", { text: heading + "Who took part" }),
      el("p", { class: "headline", text: parts.join(" ") || "Not enough data yet." }),
      legend([
        ["sw-players", "Share of players"],
        ["sw-residents", "Share of residents"],
      ]),
      chart,
      table(
        "Players and residents by deprivation quintile",
        ["Group", "Players", "Residents", "Players per 1,000 residents", "Share of players", "Share of residents"],
        rows,
      ),
      siiSentence(section.inequality.uptake_rate_per_1000, "uptake", "players per 1,000 residents"),
    );
  }

  function significance(p) {
    if (!isNumber(p)) return "";
    return p < 0.05
      ? ` This change is statistically significant (exact McNemar test, p ${p < 0.001 ? "< 0.001" : "= " + p.toFixed(3)}).`
      : ` This change could be due to chance (exact McNemar test, p = ${p.toFixed(3)}).`;
  }

  // A section of paired answers (section[kind]): its heading and note, then for each survey
  // wave a heading and what waveBlock(wave, groups) gives.
  function pairedSection(nation, section, heading, { kind, title, intro, waveBlock }) {
    const out = el(
      "section",
      { class: kind, "data-nation": nation },
      el("h2", { text: heading + title }),
      el("p", { class: "muted", text: intro }),
    );
    for (const [wave, block] of Object.entries(section[kind])) {
      out.append(el("h3", { text: WAVES[wave] || wave }), ...waveBlock(wave, block.groups));
    }
    return out;
  }

  function activitySection(nation, section, heading) {
    return pairedSection(nation, section, heading, {
      kind: "activity",
      title: "Did activity change?",
      intro:
        "People who answered at registration and again later (paired answers). Inactive = active on 0–1 days a week; " +
        "meets the guideline = 5 or more days with 30 minutes of activity that raised their breathing rate.",
      waveBlock: (wave, groups) => {
        const t = groups.total;
        let headline = "No one has answered both surveys yet.";
        if (isNumber(t.n_paired) && t.n_paired > 0) {
          headline =
            `${fmt(t.n_paired, "count")} people answered both surveys. The share who were inactive went from ` +
            `${fmt(t.inactive_before_pct, "pct")} to ${fmt(t.inactive_after_pct, "pct")}, and the share meeting the guideline ` +
            `from ${fmt(t.meets_guideline_before_pct, "pct")} to ${fmt(t.meets_guideline_after_pct, "pct")}.` +
            significance(t.mcnemar_p);
        }
        const rows = groupRows(groups, (v) => [
          valueNode(v.n_paired, "count"),
          valueNode(v.follow_up_pct, "pct"),
          pair(v.inactive_before_pct, v.inactive_after_pct, "pct"),
          pair(v.meets_guideline_before_pct, v.meets_guideline_after_pct, "pct"),
          valueNode(v.b_inactive_to_active, "count"),
          valueNode(v.c_active_to_inactive, "count"),
          valueNode(v.mcnemar_p, "p"),
          valueNode(v.inactive_at_baseline_now_more_days_pct, "pct"),
          interval(v.mean_change_days, v.mean_change_days_ci_low, v.mean_change_days_ci_high),
        ]);
        return [
          el("p", { class: "headline", text: headline }),
          legend([
            ["sw-before", "At registration"],
            ["sw-after", wave === "wave_3" ? "At follow-up" : "At game end"],
          ]),
          el(
            "div",
            { class: "charts" },
            beforeAfterChart(groups, "inactive", "Inactive (0–1 days a week)"),
            beforeAfterChart(groups, "meets_guideline", "Meets the guideline (5+ days a week)"),
          ),
          table(
            "Activity, paired answers",
            [
              "Group",
              "Answered both",
              "Follow-up rate",
              "Inactive",
              "Meets guideline",
              "Became active",
              "Became inactive",
              "McNemar p",
              "Of the inactive, now more days",
              "Change in active days (95% CI)",
            ],
            rows,
          ),
          siiSentence(section.inequality["activity_mean_change_days_" + wave], "the change in active days", "days"),
        ];
      },
    });
  }

  function belongingSection(nation, section, heading) {
    return pairedSection(nation, section, heading, {
      kind: "belonging",
      title: "Belonging to the neighbourhood",
      intro:
        "“How strongly do you feel you belong to your immediate neighbourhood?” Belongs = very or fairly strongly. Change is on a 1–4 scale.",
      waveBlock: (wave, groups) => [
        table(
          "Belonging, paired answers",
          ["Group", "Answered both", "Feel they belong", "Came to belong", "Stopped belonging", "McNemar p", "Change in score (95% CI)"],
          groupRows(groups, (v) => [
            valueNode(v.n_paired, "count"),
            pair(v.belongs_before_pct, v.belongs_after_pct, "pct"),
            valueNode(v.b_not_belonging_to_belonging, "count"),
            valueNode(v.c_belonging_to_not_belonging, "count"),
            valueNode(v.mcnemar_p, "p"),
            interval(v.mean_change_score, v.mean_change_score_ci_low, v.mean_change_score_ci_high),
          ]),
        ),
      ],
    });
  }

  function natureSection(nation, section, heading) {
    return pairedSection(nation, section, heading, {
      kind: "nature",
      title: "Connection with nature",
      intro: "Mean of the six Nature Connection Index statements, each from 1 (completely disagree) to 7 (completely agree).",
      waveBlock: (wave, groups) => [
        table(
          "Nature connection, paired answers",
          ["Group", "Answered both", "Mean before", "Mean after", "Change (95% CI)", "p (paired t-test)"],
          groupRows(groups, (v) => [
            valueNode(v.n_paired, "count"),
            valueNode(v.mean_before, "mean"),
            valueNode(v.mean_after, "mean"),
            interval(v.mean_change, v.mean_change_ci_low, v.mean_change_ci_high),
            valueNode(v.mean_change_p_value, "p"),
          ]),
        ),
      ],
    });
  }

  const SII_STATUS = [
    ["suppressed", "not shown, because it would reveal a value hidden to protect privacy"],
    ["not enough quintiles", "not enough quintiles have residents to work it out"],
    ["no value for every quintile", "not every quintile has a value yet"],
  ];

  function siiSentence(block, what, unit) {
    const p = el("p", { class: "sii" });
    if (!block) return p;
    if (block.status !== "ok") {
      const found = SII_STATUS.find(([start]) => block.status.startsWith(start));
      p.append(el("span", { class: "na", text: `Inequality in ${what}: ${found ? found[1] : block.status}.` }));
      return p;
    }
    const ci =
      isNumber(block.sii_ci_low) && isNumber(block.sii_ci_high)
        ? ` (95% CI ${fmt(block.sii_ci_low, "signed")} to ${fmt(block.sii_ci_high, "signed")})`
        : "";
    const direction =
      block.sii < 0
        ? `a negative value means ${what} is higher in more deprived neighbourhoods`
        : `a positive value means ${what} is higher in less deprived neighbourhoods`;
    p.append(
      el("strong", { text: `Slope index of inequality in ${what}: ${fmt(block.sii, "signed")} ${unit}` }),
      `${ci}. This is the modelled difference between the least and the most deprived ends of the area; ${direction}.`,
      isNumber(block.rii) ? ` Relative index: ${block.rii.toFixed(2)}.` : "",
    );
    return p;
  }

  function notes(report) {
    const list = $("notes-list");
    list.replaceChildren();
    const plain = [
      [el("span", { class: "suppressed", text: "*" }), " means a value is hidden to protect privacy: it was based on 1 to 7 people, or it would let someone work out a hidden value from the totals."],
      ["Below whole-game level, numbers of people are rounded to the nearest 5; percentages are worked out from the exact numbers. Averages and tests based on fewer than 10 people are hidden."],
      ["– means not applicable (for example, no one in the group)."],
      ["Quintiles: every neighbourhood (LSOA) in the nation is ranked by the Index of Multiple Deprivation; Q1 is the most deprived 20% of neighbourhoods nationally, Q5 the least deprived 20%. Players are placed by the postcode they registered with; the postcode itself is not kept."],
      ["Paired answers: only people who answered at registration and again later are compared, so changes are within the same people."],
      ["A result is called statistically significant when a change that large would happen by chance less than 1 time in 20 (p < 0.05). Small groups rarely reach that."],
    ];
    for (const parts of plain) list.append(el("li", {}, ...parts));
    const d = report.definitions || {};
    const technical = el("dl", { class: "technical" });
    for (const key of ["groups", "uptake", "paired", "activity", "belonging", "nature", "ons4", "loneliness", "inequality", "reaim"]) {
      if (d[key]) technical.append(el("dt", { text: key[0].toUpperCase() + key.slice(1) }), el("dd", { text: d[key] }));
    }
    const details = $("technical");
    details.replaceChildren(el("summary", { text: "Technical definitions (for analysts)" }), technical);
  }

  function render(report) {
    document.title = `Evaluation report: ${report.game.name}`;
    $("title").textContent = `Evaluation report: ${report.game.name}`;
    const start = new Date(report.game.starts_at);
    const end = new Date(report.game.ends_at);
    const day = { day: "numeric", month: "long", year: "numeric" };
    $("subtitle").textContent =
      `Game from ${start.toLocaleDateString("en-GB", day)} to ${end.toLocaleDateString("en-GB", day)} · ` +
      `report made ${new Date(report.generated_at).toLocaleString("en-GB")}`;
    glance(report);
    const container = $("nations");
    container.replaceChildren();
    const nations = Object.entries(report.nations);
    if (nations.length === 0) {
      container.append(el("section", {}, el("p", { text: "No deprivation data for this game's players yet." })));
    }
    const parts = window.TaptrailReportParts(helpers);
    $("reaim").replaceChildren(...parts.summary(report));
    for (const [nation, section] of nations) {
      const heading = nations.length > 1 ? (NATIONS[nation] || nation) + ": " : "";
      container.append(uptakeSection(nation, section, heading));
      if (section.reach) container.append(parts.reach(nation, section, heading));
      if (section.activity) container.append(activitySection(nation, section, heading));
      if (section.belonging) container.append(belongingSection(nation, section, heading));
      if (section.nature) container.append(natureSection(nation, section, heading));
      container.append(...parts.measures(nation, section, heading, report.measures || []));
      if (section.maintenance) container.append(parts.maintenance(nation, section, heading));
      if (section.active_days) container.append(parts.activeDays(nation, section, heading));
    }
    container.append(...parts.wholeGame(report));
    notes(report);
    $("report").hidden = false;
    $("status").hidden = true;
    body.dataset.state = "ready";
  }

  // What report-parts.js builds its sections with.
  const helpers = {
    card,
    el,
    svg,
    fmt,
    isNumber,
    valueNode,
    pair,
    interval,
    table,
    groupRows,
    barChart,
    series,
    legend,
    pairedSection,
    siiSentence,
    COLOURS,
    QUINTILES,
    LABELS,
    WAVES,
  };

  // ------------------------------------------------------------------ token and loading

  // In the staff console the page is behind sign-in: the report comes from the console's
  // own address with the session cookie, and no token is asked for or kept.
  const sessionUrl = body.dataset.session || "";

  function reportUrl(format) {
    if (sessionUrl) return `${sessionUrl}?format=${format}`;
    return `${api}/admin/games/${encodeURIComponent(slug)}/reports/evaluation?format=${format}`;
  }

  function authHeaders() {
    const token = sessionStorage.getItem(TOKEN_KEY);
    return sessionUrl || !token ? {} : { Authorization: "Bearer " + token };
  }

  function askForToken(message) {
    $("report").hidden = true;
    $("token-panel").hidden = false;
    $("status").hidden = true;
    const error = $("token-error");
    error.hidden = !message;
    error.textContent = message || "";
    body.dataset.state = "token";
    $("token-input").focus();
  }

  async function load() {
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (!token && !sessionUrl) {
      askForToken("");
      return;
    }
    $("token-panel").hidden = true;
    $("status").hidden = false;
    $("status").textContent = "Loading the report…";
    let response;
    try {
      response = await fetch(reportUrl("json"), {
        headers: { ...authHeaders(), Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
      });
    } catch (err) {
      $("status").textContent = "The server could not be reached. Try again in a moment.";
      body.dataset.state = "error";
      return;
    }
    if (sessionUrl && !response.ok) {
      $("status").textContent = `The report could not be loaded (error ${response.status}). Sign in again and reopen the page.`;
      body.dataset.state = "error";
      return;
    }
    if (response.status === 401 || response.status === 403) {
      sessionStorage.removeItem(TOKEN_KEY);
      let detail = "That token cannot open this report.";
      try {
        detail = (await response.json()).detail || detail;
      } catch (err) {
        /* keep the default sentence */
      }
      askForToken(detail);
      return;
    }
    if (!response.ok) {
      $("status").textContent = `The report could not be loaded (error ${response.status}).`;
      body.dataset.state = "error";
      return;
    }
    render(await response.json());
  }

  async function downloadCsv() {
    if (!sessionUrl && !sessionStorage.getItem(TOKEN_KEY)) return askForToken("");
    const response = await fetch(reportUrl("csv"), { headers: authHeaders(), credentials: "same-origin", cache: "no-store" });
    if (!response.ok) return;
    const url = URL.createObjectURL(await response.blob());
    const link = el("a", { href: url, download: `${slug}-evaluation.csv` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  function init() {
    // The page takes no parameters, and never a token from its address: whatever was put
    // there (an old ?token= link) is dropped from the address bar and history unread.
    if (window.location.search) history.replaceState(null, "", window.location.pathname);
    $("token-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const value = $("token-input").value.trim();
      if (!value) return;
      sessionStorage.setItem(TOKEN_KEY, value);
      $("token-input").value = "";
      load();
    });
    if (sessionUrl) $("forget").hidden = true;
    $("forget").addEventListener("click", () => {
      sessionStorage.removeItem(TOKEN_KEY);
      askForToken("The token was forgotten.");
    });
    $("print").addEventListener("click", () => window.print());
    $("download-csv").addEventListener("click", downloadCsv);
    load();
  }

  init();
})();
