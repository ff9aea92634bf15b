"""The tap-to-screen benchmark's figures: percentiles, summaries and the latency of every
(probe, client) pair.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from tap_to_screen_town import Probe
from tap_to_screen_uploads import UploadLog


def pct(ordered: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of sorted values."""
    if not ordered:
        return math.nan
    return ordered[max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))]


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "p50": pct(ordered, 50),
        "p90": pct(ordered, 90),
        "p99": pct(ordered, 99),
        "max": ordered[-1] if ordered else math.nan,
    }


def fmt(s: dict[str, float], unit: float = 1.0, suffix: str = "s") -> str:
    if not s["n"]:
        return "no samples"
    return (
        f"p50 {s['p50'] * unit:.3f} {suffix}, p90 {s['p90'] * unit:.3f} {suffix}, "
        f"p99 {s['p99'] * unit:.3f} {suffix}, max {s['max'] * unit:.3f} {suffix}"
    )


def latencies(
    probes: list[Probe], log: UploadLog, clients: list[dict[str, Any]], warmup: float
) -> dict[str, Any]:
    """Pairs each client's k-th count of a probe team with that team's k-th probe to be
    sent. Without reordering that is exactly the probe whose leg made the count; if a
    later probe is scored first, the pairing never gives a time before the sending (a
    count of k needs k probes scored) and ``out_of_order`` says how often it happened."""
    all_: list[float] = []
    same: list[float] = []
    other: list[float] = []
    worst: list[float] = []  # per probe: the slowest client
    missing = negative = out_of_order = 0
    unsent = sum(1 for p in probes if p.due >= warmup and p.pid not in log.sent)
    measured = 0
    for team in sorted({p.team for p in probes}):
        sent = sorted(
            (p for p in probes if p.team == team and p.pid in log.sent),
            key=lambda p: log.sent[p.pid],
        )
        answers = [log.answered[p.pid] for p in sent if p.pid in log.answered]
        out_of_order += sum(1 for a, b in zip(answers, answers[1:], strict=False) if b < a)
        for k, p in enumerate(sent, start=1):
            if p.due < warmup:
                continue
            measured += 1
            slowest = 0.0
            for c in clients:
                if not c["connected"]:
                    continue
                arrivals = c["arrivals"][team]
                if len(arrivals) < k:
                    missing += 1
                    continue
                lat = arrivals[k - 1] - log.sent[p.pid]
                if lat < 0:
                    negative += 1
                all_.append(lat)
                (same if c["server"] == p.server else other).append(lat)
                slowest = max(slowest, lat)
            worst.append(slowest)
    answer = [
        log.answered[p.pid] - log.sent[p.pid]
        for p in probes
        if p.due >= warmup and p.pid in log.answered
    ]
    return {
        "probes_planned": len(probes),
        "probes_measured": measured,
        "probes_unsent": unsent,
        "out_of_order": out_of_order,
        "pairs": len(all_),
        "missing": missing,
        "negative": negative,
        "all": summary(all_),
        "same_process": summary(same),
        "other_process": summary(other),
        "slowest_client_per_probe": summary(worst),
        "probe_upload_answer": summary(answer),
    }
