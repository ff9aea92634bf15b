"""Pure report builder: who took part, what changed, and for whom (by IMD quintile).

Input: :class:`Participant` records (plain dataclasses) and residents per quintile (the IoD
population denominators of the game area's LSOAs), per nation. Output: a JSON-ready ``dict``;
:func:`report_to_csv_rows` flattens it for CSV.

Groups. Quintiles are within one nation (never pooled): a report has one section per nation,
each with groups ``Q1``-``Q5`` (that nation's quintiles, Q1 = most deprived 20%), ``other``
(everyone else: other nations, unknown deprivation, and for uptake players living outside the
game area) and ``total`` (the whole game). Groups Q1-Q5 + other add up to the total.

Disclosure control (:mod:`evaluation.disclosure`) applies to every group below the whole game:
counts 1-7 -> ``"*"``, other counts rounded to 5; percentages from unrounded counts, ``"*"``
when the denominator is under 10 or the numerator/complement is 1-7; means and tests from
fewer than 10 people ``"*"``; secondary suppression across the groups of each measure. The
``total`` group is whole-game level: counts are exact, and only the "fewer than 10 people"
rules apply. Inequality indices are published only when every quintile value they are computed
from is published (otherwise they could give a suppressed value back). ``None`` means "not
applicable" (e.g. no one in the group).

Paired design: for each follow-up wave (2 = game end, 3 = about six months later) against the
baseline (wave 1, registration), only people who answered the item at both waves count.

The inputs and their scores are in :mod:`evaluation.report_scores`, the numbers of each
section, group by group, in :mod:`evaluation.report_sections`; this module puts the report
together and flattens it for CSV.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from evaluation import disclosure as dc
from evaluation.report_scores import (
    BASELINE_WAVE,
    FOLLOW_UP_WAVES,
    GUIDELINE_MIN_DAYS,
    INACTIVE_MAX_DAYS,
    MEASURES,
    NATURE_ITEMS,
    NATURE_MIN_ITEMS,
    QUINTILES,
    TOTAL,
    Participant,
    ScoreColumns,
    measures_of,
    score_columns,
)
from evaluation.report_sections import (
    SECTIONS,
    SII_CONVENTION,
    change_sii,
    paired_answers,
    uptake_section,
    uptake_sii,
)
from game.instruments import DEFAULT_INSTRUMENTS

__all__ = [
    "CSV_COLUMNS",
    "REPORT_SCHEMA",
    "build_report",
    "build_report_from_columns",
    "report_to_csv_rows",
]


REPORT_SCHEMA: Final = "taptrail.evaluation.report/1"


def _definitions() -> dict[str, Any]:
    return {
        "groups": "Q1-Q5 = IMD quintiles within the nation (Q1 = most deprived 20% of small "
        "areas nationally, quintile = ceil(decile / 2)); other = other nations, unknown "
        "deprivation or (uptake) living outside the game area; total = whole game",
        "uptake": "players living in the game area's LSOAs per 1,000 residents (IoD population "
        "denominators); share_of_players_pct is among players with a known quintile",
        "paired": "wave 1 (registration) against each follow-up wave; only people who "
        "answered at both waves; follow_up_pct = paired / answered at baseline",
        "activity": f"days with 30+ minutes of activity raising breathing rate (0-7); inactive "
        f"= 0-{INACTIVE_MAX_DAYS} days; meets_guideline = {GUIDELINE_MIN_DAYS}+ days; "
        "b = inactive -> not, c = not -> inactive; mcnemar_p = exact McNemar test on (b, c); "
        "mean_change_days with a 95% t interval",
        "belonging": "belongs = very or fairly strongly; b = not belonging -> belonging, c = "
        "belonging -> not; mean_change_score on 1 (not at all) to 4 (very strongly)",
        "nature": f"Nature Connection Index items, mean item score 1-7 of the answered items "
        f"(at least {NATURE_MIN_ITEMS} of {NATURE_ITEMS}); mean_change with a 95% t interval "
        "and paired t-test p",
        "ons4": "ONS personal well-being: life_satisfaction, worthwhile, happiness and anxiety, "
        "each 0-10; means and mean_change with a 95% t interval and paired t-test p; ONS "
        "thresholds: low = 0-4 and very_high = 9-10 (life satisfaction, worthwhile, "
        "happiness), high = 6-10 and very_low = 0-1 (anxiety)",
        "loneliness": "ONS direct question 'How often do you feel lonely?', scored 1 (never) to "
        "5 (often or always); lonely_often = often or always; mean_change on that score",
        "inequality": SII_CONVENTION,
    }


def _disclosure_notes() -> dict[str, Any]:
    return {
        "suppressed_marker": dc.SUPPRESSED,
        "not_applicable": None,
        "rules": [
            "below whole-game level: counts 1-7 shown as *, other counts rounded to the "
            "nearest 5, 0 stays 0 (NHS Digital HES rule)",
            "percentages from unrounded counts; * when the denominator is under 10 or the "
            "numerator or its complement is 1-7 people",
            "means, intervals and tests from fewer than 10 people: *",
            "secondary suppression: when only one group of a measure is suppressed, the "
            "next-smallest group is suppressed too, so no value can be recovered from the total",
            "inequality indices: * when a quintile value they use is suppressed",
            "total (whole game): exact counts; the fewer-than-10 rules still apply",
        ],
    }


def build_report(
    participants: Iterable[Participant],
    residents: Mapping[str, Mapping[int, int]],
    *,
    nations: Sequence[str] | None = None,
    follow_up_waves: Sequence[int] = FOLLOW_UP_WAVES,
    instruments: Sequence[str] = DEFAULT_INSTRUMENTS,
) -> dict[str, Any]:
    """Build the evaluation report (see the module docstring for groups and rules).

    ``residents`` maps nation -> quintile (1-5) -> residents of the game area's LSOAs in that
    quintile. ``nations`` defaults to the nations in ``residents`` plus those of participants
    with a known quintile. ``instruments``: the game's survey instruments (a section for
    each of their measures).
    """
    people = list(participants)
    scores = score_columns(people, (BASELINE_WAVE, *follow_up_waves))
    return build_report_from_columns(
        scores,
        residents,
        nations=nations,
        follow_up_waves=follow_up_waves,
        instruments=instruments,
    )


def build_report_from_columns(
    scores: ScoreColumns,
    residents: Mapping[str, Mapping[int, int]],
    *,
    nations: Sequence[str] | None = None,
    follow_up_waves: Sequence[int] = FOLLOW_UP_WAVES,
    instruments: Sequence[str] = DEFAULT_INSTRUMENTS,
) -> dict[str, Any]:
    """:func:`build_report` from :class:`ScoreColumns` (same report, no per-person objects)."""
    measures = measures_of(instruments)
    missing = [
        w
        for w in (BASELINE_WAVE, *follow_up_waves)
        for m in measures
        if (m, w) not in scores.values
    ]
    if missing:
        raise ValueError(f"no scores for wave(s) {sorted(set(missing))}")
    if nations is None:
        nations = sorted(set(residents) | scores.nations())
    sections: dict[str, Any] = {}
    for nation in nations:
        nation_residents = residents.get(nation, {})
        bad = set(nation_residents) - set(QUINTILES)
        if bad:
            raise ValueError(f"residents for {nation}: quintiles must be 1-5, not {sorted(bad)}")
        groups = scores.groups(nation)
        uptake, res, players, rates = uptake_section(scores, groups, nation_residents)
        section: dict[str, Any] = {"uptake": uptake}
        inequality: dict[str, Any] = {
            "convention": SII_CONVENTION,
            "uptake_rate_per_1000": uptake_sii(res, players, rates),
        }
        for name in measures:
            builder, metric = SECTIONS[name]
            by_wave: dict[str, Any] = {}
            for wave in follow_up_waves:
                built = builder(paired_answers(scores, groups, name, wave))
                inequality[f"{name}_{metric}_wave_{wave}"] = change_sii(built, metric, res)
                by_wave[f"wave_{wave}"] = {"groups": built["groups"]}
            section[name] = by_wave
        section["inequality"] = inequality
        sections[nation] = section
    return {
        "schema": REPORT_SCHEMA,
        "players": len(scores),
        "instruments": list(instruments),
        "measures": list(measures),
        "definitions": _definitions(),
        "disclosure": _disclosure_notes(),
        "nations": sections,
    }


#: Columns of :func:`report_to_csv_rows`.
CSV_COLUMNS: Final = ("nation", "section", "comparison", "group", "metric", "value")


def _csv_value(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    return value


def report_to_csv_rows(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Flatten a :func:`build_report` result into rows with :data:`CSV_COLUMNS` keys
    (``"*"`` stays ``"*"``; ``None`` is left for the CSV writer to print as empty)."""
    rows: list[dict[str, Any]] = [
        {
            "nation": "",
            "section": "game",
            "comparison": "",
            "group": TOTAL,
            "metric": "players",
            "value": report["players"],
        }
    ]

    def emit(
        nation: str, sec: str, comparison: str, groups: Mapping[str, Mapping[str, Any]]
    ) -> None:
        for group, metrics in groups.items():
            for metric, value in metrics.items():
                rows.append(
                    {
                        "nation": nation,
                        "section": sec,
                        "comparison": comparison,
                        "group": group,
                        "metric": metric,
                        "value": _csv_value(value),
                    }
                )

    measures = report.get("measures", MEASURES[:3])

    def flat(nation: str, sec: str, comparison: str, block: Any) -> None:
        """Any other block: groups as groups, other values one row each."""
        if not isinstance(block, Mapping):
            rows.append(
                {
                    "nation": nation,
                    "section": sec,
                    "comparison": comparison,
                    "group": "",
                    "metric": "value",
                    "value": _csv_value(block),
                }
            )
            return
        for key, value in block.items():
            if key == "groups" and isinstance(value, Mapping):
                emit(nation, sec, comparison, value)
            elif isinstance(value, Mapping):
                flat(nation, sec, f"{comparison}.{key}" if comparison else key, value)
            else:
                rows.append(
                    {
                        "nation": nation,
                        "section": sec,
                        "comparison": comparison,
                        "group": "",
                        "metric": key,
                        "value": _csv_value(value),
                    }
                )

    for nation, section in report["nations"].items():
        emit(nation, "uptake", "", section["uptake"]["groups"])
        for name in measures:
            for comparison, block in section[name].items():
                emit(nation, name, comparison, block["groups"])
        for measure, block in section["inequality"].items():
            if not isinstance(block, Mapping):
                continue
            for metric, value in block.items():
                rows.append(
                    {
                        "nation": nation,
                        "section": "inequality",
                        "comparison": measure,
                        "group": "",
                        "metric": metric,
                        "value": _csv_value(value),
                    }
                )
        for key, block in section.items():
            if key not in ("uptake", "inequality", *measures):
                flat(nation, key, "", block)
    for key in ("adoption", "implementation"):
        if key in report:
            flat("", key, "", report[key])
    return rows
