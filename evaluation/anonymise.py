"""Pseudonyms and k-anonymity for the evaluator's player-level export (pure functions).

**Pseudonym** = the first 16 hex characters (64 bits) of HMAC-SHA256(export key, player id as
decimal ASCII). The key is random and per evaluation project (:func:`new_export_key`), so two
projects' files cannot be linked, and without the key a pseudonym cannot be recomputed from an
id (a plain hash of an id or postcode could be, by trying them all).

**k-anonymity** over the released columns (by default the quasi-identifiers age band, gender,
IMD quintile, team kind; an export adds its activity bands), k = 10 by default: every
combination of published values is shared by at least k records.

We use *global* recoding: a generalisation step applies to the whole column (everyone's gender
becomes ``"any"``), never to some records only. Local (per-class) recoding keeps more detail
but leaves one column mixing fine and coarse values, which is awkward to analyse and can leak
(when only the men of a small class were recoded to ``"any"``, ``"any"`` there means men).
Each column has a :class:`Hierarchy` of nested levels (gender -> any; age band -> 0-15, 16-44,
45+ -> any; team kind -> any; activity bands -> ever coarser bands -> any). The IMD quintile
and its nation, the analysis variables, have none: they are never generalised.

While records are in classes smaller than k, the planner takes the step that loses least
information per record it brings into a class of k or more. Information is the Shannon
entropy of the column's released values (bits per record); a step's loss is the drop in that
entropy. When no single step helps, the cheapest pair of steps that does (with few classes:
``PAIR_SEARCH_MAX_CLASSES``); when none does, the cheapest step. Greedy steps can overshoot,
so afterwards every step whose undoing suppresses nobody more is undone (latest first). Only
then are the records still in classes smaller than k suppressed (left out). With
``max_suppressed_fraction`` > 0, generalisation stops as soon as suppressing the remaining
small classes would remove no more than that fraction of records. The manifest records k, the
steps taken with their information loss, the steps undone and the suppression; the caller
adds the game, schema and software version.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

__all__ = [
    "ANY",
    "DEFAULT_K",
    "QUASI_IDENTIFIERS",
    "WIDE_AGE_BANDS",
    "DEFAULT_HIERARCHIES",
    "Hierarchy",
    "KAnonymityPlan",
    "KAnonymityResult",
    "hierarchy_of",
    "k_anonymise",
    "new_export_key",
    "plan_k_anonymity",
    "pseudonym",
]

DEFAULT_K: Final = 10
ANY: Final = "any"
WIDE_AGE_BANDS: Final[dict[str, str]] = {
    "0-4": "0-15",
    "5-11": "0-15",
    "12-15": "0-15",
    "16-24": "16-44",
    "25-44": "16-44",
    "45-64": "45+",
    "65+": "45+",
}
QUASI_IDENTIFIERS: Final = ("age_band", "gender", "imd_quintile", "team_kind")
PSEUDONYM_HEX_CHARS: Final = 16
PAIR_SEARCH_MAX_CLASSES: Final = 1000
MIN_KEY_BYTES: Final = 16


def new_export_key() -> bytes:
    """A fresh random export key (32 bytes) for one evaluation project."""
    return secrets.token_bytes(32)


def pseudonym(export_key: bytes, player_id: int, *, length: int = PSEUDONYM_HEX_CHARS) -> str:
    """HMAC-SHA256(export_key, str(player_id)) as lowercase hex, truncated to ``length``."""
    if len(export_key) < MIN_KEY_BYTES:
        raise ValueError(f"the export key must be at least {MIN_KEY_BYTES} random bytes")
    if not 8 <= length <= 64:
        raise ValueError("length must be between 8 and 64 hex characters")
    digest = hmac.new(export_key, str(int(player_id)).encode("ascii"), hashlib.sha256)
    return digest.hexdigest()[:length]


@dataclass(frozen=True, slots=True)
class Hierarchy:
    """How one column may be generalised: ``recode(raw, level)`` is the released value at
    ``level`` (0 = as released before any generalisation); levels 1..len(names) are the
    steps, each coarser than the one before and *nested* (records equal at one level stay
    equal at the next). A column with no steps (the IMD quintile) is never generalised."""

    field: str
    names: tuple[str, ...]
    descriptions: tuple[str, ...]
    recode: Callable[[Any, int], Any]

    @property
    def top(self) -> int:
        return len(self.names)


def _categorical(field: str, levels: Sequence[tuple[str, str, Callable[[Any], Any]]]) -> Hierarchy:
    def recode(value: Any, level: int) -> Any:
        return levels[level - 1][2](value) if level else value

    return Hierarchy(field, tuple(n for n, _, _ in levels), tuple(d for _, d, _ in levels), recode)


#: the quasi-identifiers' hierarchies; the IMD quintile and its nation (the analysis
#: variable) have none: they are never generalised
DEFAULT_HIERARCHIES: Final[dict[str, Hierarchy]] = {
    "gender": _categorical("gender", [("any", 'gender replaced by "any"', lambda _v: ANY)]),
    "age_band": _categorical(
        "age_band",
        [
            (
                "wide",
                "age bands widened to 0-15, 16-44, 45+",
                lambda v: WIDE_AGE_BANDS.get(v, v) if isinstance(v, str) else v,
            ),
            ("any", 'age band replaced by "any"', lambda _v: ANY),
        ],
    ),
    "team_kind": _categorical(
        "team_kind", [("any", 'team kind replaced by "any"', lambda _v: ANY)]
    ),
}


def hierarchy_of(field: str) -> Hierarchy:
    """The default hierarchy of a field (no steps for fields without one)."""
    return DEFAULT_HIERARCHIES.get(field) or Hierarchy(field, (), (), lambda v, _level: v)


@dataclass(frozen=True, slots=True)
class KAnonymityResult:
    #: the kept records (copies), quasi-identifiers generalised, in input order
    records: list[dict[str, Any]]
    manifest: dict[str, Any]
    #: positions (in the input) of the suppressed records, so the caller can drop their rows
    #: from the other export files too
    suppressed_indices: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class KAnonymityPlan:
    """The outcome of k-anonymisation decided from class sizes alone, applied record by record.

    Deciding needs only how many records share each combination of raw values (never more
    combinations than records, usually far fewer), so an export can stream any number of
    records past :meth:`apply` in memory bounded by the combinations.
    """

    k: int
    quasi_identifiers: tuple[str, ...]
    hierarchies: tuple[Hierarchy, ...]
    levels: tuple[int, ...]
    kept_classes: frozenset[tuple[Any, ...]]
    manifest: dict[str, Any]

    def generalise_key(self, key: Sequence[Any]) -> tuple[Any, ...]:
        """A raw tuple at the planned levels."""
        return tuple(
            h.recode(v, level)
            for h, v, level in zip(self.hierarchies, key, self.levels, strict=True)
        )

    def level_of(self, field: str) -> int:
        return self.levels[self.quasi_identifiers.index(field)]

    def key_of(self, record: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(record.get(q) for q in self.quasi_identifiers)

    def kept(self, key: Sequence[Any]) -> tuple[Any, ...] | None:
        """The generalised key of a raw key, or ``None`` when such a record is suppressed."""
        general = self.generalise_key(key)
        return general if general in self.kept_classes else None

    def apply(self, record: Mapping[str, Any]) -> dict[str, Any] | None:
        """A generalised copy of ``record``, or ``None`` when it is suppressed."""
        general = self.kept(self.key_of(record))
        if general is None:
            return None
        out = dict(record)
        out.update(zip(self.quasi_identifiers, general, strict=True))
        return out


def _small(counts: Mapping[tuple[Any, ...], int], k: int) -> int:
    return sum(n for n in counts.values() if n < k)


def _entropy(counts: Iterable[int]) -> float:
    values = [n for n in counts if n > 0]
    total = sum(values)
    return -sum(n / total * math.log2(n / total) for n in values) if total else 0.0


def plan_k_anonymity(
    class_counts: Mapping[tuple[Any, ...], int],
    *,
    k: int = DEFAULT_K,
    quasi_identifiers: Sequence[str] = QUASI_IDENTIFIERS,
    hierarchies: Sequence[Hierarchy] | None = None,
    max_suppressed_fraction: float = 0.0,
) -> KAnonymityPlan:
    """Decide generalisation and suppression from ``class_counts`` (raw tuple, in
    ``quasi_identifiers`` order -> number of records). See the module docstring."""
    if k < 1:
        raise ValueError("k must be at least 1")
    if not 0.0 <= max_suppressed_fraction <= 1.0:
        raise ValueError("max_suppressed_fraction must be between 0 and 1")
    qis = tuple(quasi_identifiers)
    hs = tuple(hierarchies) if hierarchies is not None else tuple(hierarchy_of(q) for q in qis)
    if [h.field for h in hs] != list(qis):
        raise ValueError("one hierarchy per quasi-identifier, in the same order")
    if any(len(key) != len(qis) for key in class_counts):
        raise ValueError("every class key needs one value per quasi-identifier")
    raw: Counter[tuple[Any, ...]] = Counter()
    for key, n in class_counts.items():
        if n < 0:
            raise ValueError("class sizes are non-negative")
        raw[tuple(key)] += n
    total = sum(raw.values())
    allowed = max_suppressed_fraction * total
    levels = [0] * len(qis)
    # per column: raw marginal counts (levels are nested, so the released value at the next
    # level follows from the value at this level: the ``up`` maps below)
    marginals: list[Counter[Any]] = [Counter() for _ in qis]
    for key, n in raw.items():
        for i, v in enumerate(key):
            marginals[i][v] += n

    def entropy(i: int, level: int) -> float:
        out: Counter[Any] = Counter()
        for v, n in marginals[i].items():
            out[hs[i].recode(v, level)] += n
        return _entropy(out.values())

    counts: Counter[tuple[Any, ...]] = Counter()
    for key, n in raw.items():
        counts[tuple(h.recode(v, 0) for h, v in zip(hs, key, strict=True))] += n
    described: list[dict[str, Any]] = []
    small = _small(counts, k)

    def step(
        at: Counter[tuple[Any, ...]], lv: list[int], i: int
    ) -> tuple[Counter[tuple[Any, ...]], float]:
        """``at`` with column i one level up, and the information that loses."""
        h = hs[i]
        up = {h.recode(v, lv[i]): h.recode(v, lv[i] + 1) for v in marginals[i]}
        recoded: Counter[tuple[Any, ...]] = Counter()
        for key, n in at.items():
            recoded[key[:i] + (up[key[i]],) + key[i + 1 :]] += n
        return recoded, max(entropy(i, lv[i]) - entropy(i, lv[i] + 1), 0.0)

    def open_columns(lv: list[int]) -> list[int]:
        return [i for i, h in enumerate(hs) if lv[i] < h.top]

    def take(i: int, loss: float, after: Counter[tuple[Any, ...]]) -> None:
        nonlocal counts, small
        levels[i] += 1
        now = _small(after, k)
        described.append(
            {
                "step": f"{hs[i].field}_{hs[i].names[levels[i] - 1]}",
                "field": hs[i].field,
                "level": levels[i],
                "description": hs[i].descriptions[levels[i] - 1],
                "information_loss_bits": round(loss, 4),
                "records_in_small_classes_before": small,
                "records_in_small_classes_after": now,
            }
        )
        counts, small = after, now

    while small > allowed and open_columns(levels):
        # one step: the least information lost per record brought into a class of >= k
        singles = []
        for i in open_columns(levels):
            after, loss = step(counts, levels, i)
            singles.append((i, after, loss, small - _small(after, k)))
        useful = [o for o in singles if o[3] > 0]
        if useful:
            i, after, loss, _gain = min(useful, key=lambda o: (o[2] / o[3], o[2], o[0]))
            take(i, loss, after)
            continue
        # no single step helps: the best pair of steps (the cheaper one is taken first); with
        # many classes (everyone nearly unique) pairs rarely help and cost columns^2 recounts
        best: tuple[float, float, int, int] | None = None
        for i, after_i, loss_i, _ in singles if len(counts) <= PAIR_SEARCH_MAX_CLASSES else ():
            lv = list(levels)
            lv[i] += 1
            for j in open_columns(lv):
                after_ij, loss_j = step(after_i, lv, j)
                gain = small - _small(after_ij, k)
                if gain > 0:
                    option = ((loss_i + loss_j) / gain, loss_i + loss_j, i, j)
                    best = option if best is None or option < best else best
        if best is None:  # nothing within two steps helps: the cheapest step
            i, after, loss, _gain = min(singles, key=lambda o: (o[2], o[0]))
            take(i, loss, after)
            continue
        first, second = best[2], best[3]
        after, loss = step(counts, levels, first)
        take(first, loss, after)
        after, loss = step(counts, levels, second)
        take(second, loss, after)

    # Greedy steps overshoot (a later step can make an earlier one unnecessary): undo, latest
    # first, every step whose undoing suppresses nobody more.
    def at_levels(lv: Sequence[int]) -> Counter[tuple[Any, ...]]:
        maps = [{v: h.recode(v, x) for v in m} for h, m, x in zip(hs, marginals, lv, strict=True)]
        out: Counter[tuple[Any, ...]] = Counter()
        for key, n in raw.items():
            out[tuple(m[v] for m, v in zip(maps, key, strict=True))] += n
        return out

    undone: list[str] = []
    for entry in reversed(list(described)):
        i = qis.index(entry["field"])
        if levels[i] != entry["level"]:
            continue
        trial = list(levels)
        trial[i] -= 1
        recounted = at_levels(trial)
        if _small(recounted, k) <= small:
            levels, counts, small = trial, recounted, _small(recounted, k)
            described.remove(entry)
            undone.append(entry["step"])

    kept = {key: n for key, n in counts.items() if n >= k and n > 0}
    manifest: dict[str, Any] = {
        "k": k,
        "quasi_identifiers": list(qis),
        "never_generalised": [h.field for h in hs if h.top == 0],
        "method": "global recoding (whole columns), each step the one losing least "
        "information (Shannon entropy of the column, bits per record) per record it brings "
        "into a class of k or more; then suppression of records left in classes smaller than k",
        "generalisations": described,
        "steps_undone": undone,
        "information_loss_bits": round(sum(d["information_loss_bits"] for d in described), 4),
        "max_suppressed_fraction": max_suppressed_fraction,
        "records_in": total,
        "records_out": sum(kept.values()),
        "records_suppressed": small,
        "equivalence_classes": len(kept),
        "smallest_class": min(kept.values()) if kept else None,
    }
    return KAnonymityPlan(k, qis, hs, tuple(levels), frozenset(kept), manifest)


def k_anonymise(
    records: Iterable[Mapping[str, Any]],
    *,
    k: int = DEFAULT_K,
    quasi_identifiers: Sequence[str] = QUASI_IDENTIFIERS,
    max_suppressed_fraction: float = 0.0,
) -> KAnonymityResult:
    """Generalise (globally), then suppress, until every quasi-identifier combination among
    the kept records occurs at least ``k`` times. See the module docstring."""
    rows = list(records)
    qis = tuple(quasi_identifiers)
    counts = Counter(tuple(row.get(q) for q in qis) for row in rows)
    plan = plan_k_anonymity(
        counts, k=k, quasi_identifiers=qis, max_suppressed_fraction=max_suppressed_fraction
    )
    kept: list[dict[str, Any]] = []
    dropped: list[int] = []
    for i, row in enumerate(rows):
        out = plan.apply(row)
        if out is None:
            dropped.append(i)
        else:
            kept.append(out)
    return KAnonymityResult(kept, plan.manifest, tuple(dropped))
