"""Pseudonyms and k-anonymity for the evaluator's player-level export (pure functions).

**Pseudonym** = the first 16 hex characters (64 bits) of HMAC-SHA256(export key, player id as
decimal ASCII). The key is random and per evaluation project (:func:`new_export_key`), so two
projects' files cannot be linked, and without the key a pseudonym cannot be recomputed from an
id (a plain hash of an id or postcode could be, by trying them all).

**k-anonymity** over the quasi-identifiers (age band, gender, IMD quintile, team kind), k = 10
by default: every combination of their published values is shared by at least k records.

We use *global* recoding: a generalisation step applies to the whole column (everyone's gender
becomes ``"any"``), never to some records only. Local (per-class) recoding keeps more detail
but leaves one column mixing fine and coarse values, which is awkward to analyse and can leak
(when only the men of a small class were recoded to ``"any"``, ``"any"`` there means men).
The steps, each applied only while some records are still in classes smaller than k:

1. gender -> ``"any"``;
2. age bands -> wide bands: 0-4, 5-11, 12-15 -> ``"0-15"``; 16-24, 25-44 -> ``"16-44"``;
   45-64, 65+ -> ``"45+"``;
3. age band -> ``"any"``;

and only then are the records still in classes smaller than k suppressed (left out). With
``max_suppressed_fraction`` > 0, generalisation stops as soon as suppressing the remaining
small classes would remove no more than that fraction of records (default 0: generalise fully
before suppressing anything). The manifest records k, the steps applied and the suppression;
the caller adds the game, schema and software version.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

__all__ = [
    "AGE_BANDS",
    "ANY",
    "DEFAULT_K",
    "QUASI_IDENTIFIERS",
    "WIDE_AGE_BANDS",
    "KAnonymityPlan",
    "KAnonymityResult",
    "k_anonymise",
    "new_export_key",
    "plan_k_anonymity",
    "pseudonym",
]

DEFAULT_K: Final = 10
ANY: Final = "any"
AGE_BANDS: Final = ("0-4", "5-11", "12-15", "16-24", "25-44", "45-64", "65+")
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
class _Step:
    name: str
    field: str
    description: str
    recode: Callable[[Any], Any]


_STEPS: Final = (
    _Step("gender_any", "gender", 'gender replaced by "any"', lambda _v: ANY),
    _Step(
        "age_band_wide",
        "age_band",
        "age bands widened to 0-15, 16-44, 45+",
        lambda v: WIDE_AGE_BANDS.get(v, v) if isinstance(v, str) else v,
    ),
    _Step("age_band_any", "age_band", 'age band replaced by "any"', lambda _v: ANY),
)


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

    Deciding needs only how many records share each combination of quasi-identifier values
    (a few hundred combinations at most), so an export can stream any number of records past
    :meth:`apply` in constant memory.
    """

    k: int
    quasi_identifiers: tuple[str, ...]
    steps: tuple[_Step, ...]
    kept_classes: frozenset[tuple[Any, ...]]
    manifest: dict[str, Any]

    def generalise_key(self, key: Sequence[Any]) -> tuple[Any, ...]:
        """A raw quasi-identifier tuple after the generalisation steps."""
        values = list(key)
        for step in self.steps:
            i = self.quasi_identifiers.index(step.field)
            values[i] = step.recode(values[i])
        return tuple(values)

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


def plan_k_anonymity(
    class_counts: Mapping[tuple[Any, ...], int],
    *,
    k: int = DEFAULT_K,
    quasi_identifiers: Sequence[str] = QUASI_IDENTIFIERS,
    max_suppressed_fraction: float = 0.0,
) -> KAnonymityPlan:
    """Decide generalisation and suppression from ``class_counts`` (raw quasi-identifier
    tuple, in ``quasi_identifiers`` order -> number of records). See the module docstring."""
    if k < 1:
        raise ValueError("k must be at least 1")
    if not 0.0 <= max_suppressed_fraction <= 1.0:
        raise ValueError("max_suppressed_fraction must be between 0 and 1")
    qis = tuple(quasi_identifiers)
    if any(len(key) != len(qis) for key in class_counts):
        raise ValueError("every class key needs one value per quasi-identifier")
    counts: Counter[tuple[Any, ...]] = Counter()
    for key, n in class_counts.items():
        if n < 0:
            raise ValueError("class sizes are non-negative")
        counts[tuple(key)] += n
    total = sum(counts.values())
    allowed = max_suppressed_fraction * total

    applied: list[_Step] = []
    described: list[dict[str, Any]] = []
    small = _small(counts, k)
    for step in _STEPS:
        if small <= allowed or step.field not in qis:
            continue
        i = qis.index(step.field)
        recoded: Counter[tuple[Any, ...]] = Counter()
        for key, n in counts.items():
            recoded[key[:i] + (step.recode(key[i]),) + key[i + 1 :]] += n
        counts = recoded
        before, small = small, _small(counts, k)
        applied.append(step)
        described.append(
            {
                "step": step.name,
                "field": step.field,
                "description": step.description,
                "records_in_small_classes_before": before,
                "records_in_small_classes_after": small,
            }
        )

    kept = {key: n for key, n in counts.items() if n >= k and n > 0}
    manifest: dict[str, Any] = {
        "k": k,
        "quasi_identifiers": list(qis),
        "method": "global recoding (whole columns), then suppression of records left in "
        "classes smaller than k",
        "generalisations": described,
        "max_suppressed_fraction": max_suppressed_fraction,
        "records_in": total,
        "records_out": sum(kept.values()),
        "records_suppressed": small,
        "equivalence_classes": len(kept),
        "smallest_class": min(kept.values()) if kept else None,
    }
    return KAnonymityPlan(k, qis, tuple(applied), frozenset(kept), manifest)


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
