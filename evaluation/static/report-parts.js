// The evaluation report page, second part: the RE-AIM summary and sections (reach, adoption,
// implementation, maintenance) and the ONS well-being and loneliness sections. report.js calls
// window.TaptrailReportParts(helpers) with its drawing helpers once the report has loaded.
// Text goes into the DOM only as text, never as HTML.
"use strict";

window.TaptrailReportParts = function (h) {
  const { el, fmt, isNumber, valueNode, pair, interval, table, groupRows, barChart, series, legend, card } = h;
  const { COLOURS, QUINTILES, LABELS, WAVES } = h;
  const KINDS = { school: "Schools", community: "Community groups", workplace: "Workplaces", family: "Families", other: "Other teams" };
  const ONS4 = {
    life_satisfaction: { title: "Life satisfaction", state: "low", stateText: "Low (0–4)" },
    worthwhile: { title: "Feeling the things you do are worthwhile", state: "low", stateText: "Low (0–4)" },
    happiness: { title: "Happiness yesterday", state: "low", stateText: "Low (0–4)" },
    anxiety: { title: "Anxiety yesterday (lower is better)", state: "high", stateText: "High (6–10)" },
  };
  const MEASURE_NAMES = {
    activity: "active days a week",
    belonging: "belonging score (1–4)",
    nature: "nature connection (1–7)",
    life_satisfaction: "life satisfaction (0–10)",
    worthwhile: "worthwhile (0–10)",
    happiness: "happiness (0–10)",
    anxiety: "anxiety (0–10)",
    loneliness: "loneliness score (1–5)",
  };

  const section = (cls, nation, title, ...children) =>
    el("section", { class: cls, "data-nation": nation }, el("h2", { text: title }), ...children);

  // ---------------------------------------------------------------- summary cards

  function summary(report) {
    const cards = [];
    const first = Object.values(report.nations)[0];
    if (first && first.reach) {
      const d = first.reach.dissimilarity_index_pct;
      cards.push(card(isNumber(d) ? d.toFixed(1) + " points" : fmt(d), "Reach: dissimilarity between players and residents by quintile (0 = alike)"));
    }
    if (first && first.effectiveness) {
      const [measure] = Object.keys(first.effectiveness);
      const change = measure && first.effectiveness[measure].wave_2;
      if (change) cards.push(card(fmt(change.mean_change, "change"), `Effectiveness: change in ${MEASURE_NAMES[measure]}, registration to game end`));
    }
    if (report.adoption) {
      const schools = report.adoption.groups.school || {};
      cards.push(card(`${fmt(schools.teams_taking_part, "count")} of ${fmt(schools.teams_registered, "count")}`, "Adoption: schools taking part"));
    }
    if (report.implementation) {
      cards.push(card(fmt(report.implementation.boxes.median_uptime_pct, "pct"), "Implementation: median box uptime (days heard from)"));
    }
    if (first && first.maintenance) {
      cards.push(card(fmt(first.maintenance.response.groups.total.follow_up_response_pct, "pct"), "Maintenance: answered again at the six-month follow-up"));
    }
    return cards;
  }

  // ---------------------------------------------------------------- reach

  function reach(nation, s, heading) {
    const r = s.reach;
    const d = r.dissimilarity_index_pct;
    const rows = QUINTILES.map((q) => ({
      group: q,
      cells: [
        valueNode(s.uptake.groups[q].share_of_players_pct, "pct"),
        valueNode(s.uptake.groups[q].share_of_residents_pct, "pct"),
        valueNode(r.representativeness_index[q], "mean"),
      ],
    }));
    return section(
      "reach",
      nation,
      heading + "Reach: are players like the area's residents?",
      el(
        "p",
        { class: "headline" },
        "Representativeness index = share of players ÷ share of residents (1 = as many players as residents would give; above 1 = more). ",
        "Dissimilarity index: ",
        el("strong", { text: isNumber(d) ? d.toFixed(1) : fmt(d) }),
        isNumber(d) ? ` percentage points: the share of players who would have to come from another quintile for players to be spread like residents.` : ".",
      ),
      table("Representativeness by deprivation quintile", ["Group", "Share of players", "Share of residents", "Representativeness index"], rows),
    );
  }

  // ---------------------------------------------------------------- ONS4 and loneliness

  function scaleTable(caption, groups, stateKey, stateText) {
    const headers = ["Group", "Answered both", "Mean before", "Mean after", "Change (95% CI)", "p (paired t-test)"];
    if (stateKey) headers.push(stateText);
    return table(
      caption,
      headers,
      groupRows(groups, (v) => {
        const cells = [
          valueNode(v.n_paired, "count"),
          valueNode(v.mean_before, "mean"),
          valueNode(v.mean_after, "mean"),
          interval(v.mean_change, v.mean_change_ci_low, v.mean_change_ci_high),
          valueNode(v.mean_change_p_value, "p"),
        ];
        if (stateKey) cells.push(pair(v[stateKey + "_before_pct"], v[stateKey + "_after_pct"], "pct"));
        return cells;
      }),
    );
  }

  function stateChart(groups, stateKey, caption) {
    return barChart({
      title: caption + ", before and after",
      caption,
      groups: [...QUINTILES, "total"],
      series: [
        series("before", COLOURS.before, groups, stateKey + "_before_pct"),
        series("after", COLOURS.after, groups, stateKey + "_after_pct"),
      ],
    });
  }

  function onsSection(nation, s, heading) {
    const out = section(
      "ons4",
      nation,
      heading + "Personal well-being (ONS4)",
      el("p", { class: "muted", text: "The four ONS personal well-being questions, each 0–10, asked of players 16 and over. Paired answers; ONS thresholds for the low and high shares." }),
    );
    for (const [item, info] of Object.entries(ONS4)) {
      if (!s[item]) continue;
      out.append(el("h3", { text: info.title }));
      for (const [wave, block] of Object.entries(s[item])) {
        out.append(el("h4", { text: WAVES[wave] || wave }));
        if (wave === "wave_2") {
          out.append(
            legend([["sw-before", "At registration"], ["sw-after", "At game end"]]),
            stateChart(block.groups, info.state, `${info.title}: ${info.stateText.toLowerCase()}`),
          );
        }
        out.append(scaleTable(`${info.title}, paired answers`, block.groups, info.state, info.stateText));
      }
    }
    return out;
  }

  function lonelinessSection(nation, s, heading) {
    const out = section(
      "loneliness",
      nation,
      heading + "Loneliness",
      el("p", { class: "muted", text: "“How often do you feel lonely?” (ONS), asked of players 12 and over. Score 1 (never) to 5 (often or always): a fall is an improvement." }),
    );
    for (const [wave, block] of Object.entries(s.loneliness)) {
      out.append(el("h3", { text: WAVES[wave] || wave }));
      if (wave === "wave_2") {
        out.append(
          legend([["sw-before", "At registration"], ["sw-after", "At game end"]]),
          stateChart(block.groups, "lonely_often", "Lonely often or always"),
        );
      }
      out.append(scaleTable("Loneliness, paired answers", block.groups, "lonely_often", "Lonely often or always"));
    }
    return out;
  }

  function measures(nation, s, heading, names) {
    const out = [];
    if (names.some((m) => m in ONS4)) out.push(onsSection(nation, s, heading));
    if (names.includes("loneliness") && s.loneliness) out.push(lonelinessSection(nation, s, heading));
    return out;
  }

  // ---------------------------------------------------------------- maintenance

  function maintenance(nation, s, heading) {
    const m = s.maintenance;
    const out = section(
      "maintenance",
      nation,
      heading + "Maintenance: did the changes last?",
      el("p", { class: "muted", text: "The six-month follow-up. People who answered at all three waves: the change to the end of the game and to the follow-up, and of those better off at the end of the game, the share still better off than at registration." }),
      table(
        "Follow-up response",
        ["Group", "Answered at registration", "Answered at follow-up", "Follow-up response"],
        groupRows(m.response.groups, (v) => [
          valueNode(v.answered_registration, "count"),
          valueNode(v.answered_follow_up, "count"),
          valueNode(v.follow_up_response_pct, "pct"),
        ]),
      ),
    );
    for (const [measure, block] of Object.entries(m)) {
      if (measure === "response") continue;
      out.append(
        table(
          `Change in ${MEASURE_NAMES[measure] || measure}, people who answered all three waves`,
          ["Group", "Answered all three", "Change to game end (95% CI)", "Change to follow-up (95% CI)", "Better at game end", "Still better at follow-up"],
          groupRows(block.groups, (v) => [
            valueNode(v.n_three_waves, "count"),
            interval(v.mean_change_game_end, v.mean_change_game_end_ci_low, v.mean_change_game_end_ci_high),
            interval(v.mean_change_follow_up, v.mean_change_follow_up_ci_low, v.mean_change_follow_up_ci_high),
            valueNode(v.better_at_game_end, "count"),
            valueNode(v.held_pct, "pct"),
          ]),
        ),
      );
    }
    return out;
  }

  // ---------------------------------------------------------------- implementation

  function activeDays(nation, s, heading) {
    const groups = s.active_days.groups;
    return section(
      "active-days",
      nation,
      heading + "Implementation: active days per player",
      el("p", { class: "muted", text: "Days on which a player tapped at least once, by deprivation quintile." }),
      legend([["sw-before", "No active day"], ["sw-after", "10 or more active days"]]),
      barChart({
        title: "Players with no active day and with 10 or more, by deprivation quintile",
        caption: "Share of players with no active day and with 10 or more",
        groups: [...QUINTILES, "total"],
        series: [series("no active day", COLOURS.before, groups, "days_0_pct"), series("10 or more", COLOURS.after, groups, "days_10_plus_pct")],
      }),
      table(
        "Active days per player",
        ["Group", "Players", "Median", "Mean", "0 days", "1 day", "2–4", "5–9", "10 or more"],
        groupRows(groups, (v) => [
          valueNode(v.players, "count"),
          valueNode(v.median_active_days, "mean"),
          valueNode(v.mean_active_days, "mean"),
          ...["0", "1", "2_4", "5_9", "10_plus"].map((b) => valueNode(v[`days_${b}_pct`], "pct")),
        ]),
      ),
    );
  }

  function wholeGame(report) {
    const out = [];
    if (report.adoption) {
      const kinds = Object.keys(report.adoption.groups).filter((k) => k !== "total");
      const rows = [...kinds, "total"].map((k) => {
        const v = report.adoption.groups[k];
        return {
          group: k === "total" ? k : KINDS[k] || k,
          cells: [
            valueNode(v.teams_registered, "count"),
            valueNode(v.teams_taking_part, "count"),
            valueNode(v.teams_taking_part_pct, "pct"),
            valueNode(v.active_players, "count"),
          ],
        };
      });
      out.push(
        section(
          "adoption",
          "",
          "Adoption: schools and groups taking part",
          el("p", { class: "muted", text: "Teams in the game file, and those with at least one member who has tapped. Schools, community groups and workplaces are organisations: their counts are exact. Families and other teams are people: their counts follow the privacy rules." }),
          table("Teams by kind", ["Kind", "Teams in the game", "Taking part", "Share taking part", "Active players"], rows),
        ),
      );
    }
    if (report.implementation) {
      const b = report.implementation.boxes;
      const c = report.implementation.campaigns;
      const boxRows = Object.entries(b.uptime_pct_by_box).map(([box, v]) => el("tr", {}, el("th", { scope: "row", text: box }), el("td", {}, valueNode(v, "pct"))));
      out.push(
        section(
          "implementation",
          "",
          "Implementation: boxes and campaigns",
          el(
            "p",
            { class: "headline", text: `${fmt(b.boxes, "count")} boxes over ${fmt(b.game_days_so_far, "count")} game days so far. Uptime = share of game days a box was heard from (a heartbeat or a tap): median ${fmt(b.median_uptime_pct, "pct")}, mean ${fmt(b.mean_uptime_pct, "pct")}, lowest ${fmt(b.lowest_uptime_pct, "pct")}; ${fmt(b.boxes_under_80_pct, "count")} boxes under 80%. ${fmt(c.campaigns_run, "count")} campaigns run, ${fmt(c.campaign_days, "count")} campaign days, on ${fmt(c.days_with_a_campaign, "count")} days (${fmt(c.share_of_game_days_pct, "pct")} of game days).` },
          ),
          el(
            "details",
            { class: "boxes" },
            el("summary", { text: "Uptime of every box" }),
            el("div", { class: "table-wrap" }, el("table", {}, el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Box" }), el("th", { scope: "col", text: "Uptime" }))), el("tbody", {}, boxRows))),
          ),
        ),
      );
    }
    return out;
  }

  return { summary, reach, measures, maintenance, activeDays, wholeGame };
};
