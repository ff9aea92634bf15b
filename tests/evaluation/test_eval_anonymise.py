import hashlib
import hmac
from collections import Counter
from typing import Any

import pytest

from evaluation.anonymise import (
    QUASI_IDENTIFIERS,
    k_anonymise,
    new_export_key,
    pseudonym,
)
from evaluation.sample_data import sample_export_records

KEY = bytes(range(32))


def _manual_hmac_sha256(key: bytes, message: bytes) -> str:
    """HMAC from its definition (RFC 2104), independent of the hmac module."""
    block = 64
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    inner = hashlib.sha256(bytes(k ^ 0x36 for k in key) + message).digest()
    return hashlib.sha256(bytes(k ^ 0x5C for k in key) + inner).hexdigest()


def test_pseudonym_is_truncated_hmac_sha256_of_the_decimal_id() -> None:
    assert pseudonym(KEY, 42) == _manual_hmac_sha256(KEY, b"42")[:16]
    assert pseudonym(KEY, 42) == hmac.new(KEY, b"42", hashlib.sha256).hexdigest()[:16]
    assert len(pseudonym(KEY, 42)) == 16
    assert pseudonym(KEY, 42, length=32) == _manual_hmac_sha256(KEY, b"42")[:32]


def test_pseudonyms_differ_between_keys_and_ids() -> None:
    other = new_export_key()
    assert len(other) == 32
    assert pseudonym(KEY, 1) != pseudonym(other, 1)
    ids = {pseudonym(KEY, i) for i in range(5000)}
    assert len(ids) == 5000
    assert pseudonym(KEY, 7) == pseudonym(KEY, 7)
    # never a plain hash of the id
    assert pseudonym(KEY, 7) != hashlib.sha256(b"7").hexdigest()[:16]


def test_weak_keys_are_refused() -> None:
    with pytest.raises(ValueError):
        pseudonym(b"short", 1)
    with pytest.raises(ValueError):
        pseudonym(KEY, 1, length=4)


def _classes(records: list[dict[str, Any]]) -> Counter[tuple[Any, ...]]:
    return Counter(tuple(r[q] for q in QUASI_IDENTIFIERS) for r in records)


def _record(age: str, gender: str | None, quintile: int | None, team: str) -> dict[str, Any]:
    return {"age_band": age, "gender": gender, "imd_quintile": quintile, "team_kind": team}


def test_gender_generalised_first_and_only_as_needed() -> None:
    records = [_record("25-44", "woman", 1, "school") for _ in range(5)]
    records += [_record("25-44", "man", 1, "school") for _ in range(5)]
    records += [_record("5-11", "girl", 2, "family") for _ in range(12)]
    result = k_anonymise(records, k=10)
    steps = [g["step"] for g in result.manifest["generalisations"]]
    assert steps == ["gender_any"]
    assert result.manifest["records_suppressed"] == 0
    assert {r["gender"] for r in result.records} == {"any"}
    assert {r["age_band"] for r in result.records} == {"25-44", "5-11"}  # untouched
    assert min(_classes(result.records).values()) >= 10


def test_age_bands_widen_before_suppression() -> None:
    records = [_record("0-4", "girl", 1, "school") for _ in range(4)]
    records += [_record("5-11", "boy", 1, "school") for _ in range(4)]
    records += [_record("12-15", "girl", 1, "school") for _ in range(4)]
    records += [_record("45-64", "woman", 3, "community") for _ in range(6)]
    records += [_record("65+", "man", 3, "community") for _ in range(6)]
    result = k_anonymise(records, k=10)
    steps = [g["step"] for g in result.manifest["generalisations"]]
    # no single step helps; the cheapest pair that does, the cheaper step first (team kind,
    # which alone would lose a bit and help nobody, is left alone)
    assert steps == ["age_band_wide", "gender_any"]
    losses = [g["information_loss_bits"] for g in result.manifest["generalisations"]]
    assert losses == sorted(losses) and losses[0] > 0
    assert result.manifest["records_suppressed"] == 0
    assert sorted(_classes(result.records).items()) == [
        (("0-15", "any", 1, "school"), 12),
        (("45+", "any", 3, "community"), 12),
    ]


def test_suppression_only_after_every_generalisation() -> None:
    records = [_record(age, "woman", 2, "school") for age in ("16-24", "25-44") * 10]
    records.append(_record("65+", "man", 5, "workplace"))  # unique on quintile and team kind
    original = [dict(r) for r in records]
    result = k_anonymise(records, k=10)
    manifest = result.manifest
    # everything was tried; none of it saved the unique record, so every step is undone
    assert manifest["generalisations"] == []
    assert sorted(manifest["steps_undone"]) == [
        "age_band_any",
        "age_band_wide",
        "gender_any",
        "team_kind_any",
    ]
    assert {r["gender"] for r in result.records} == {"woman"}
    assert manifest["never_generalised"] == ["imd_quintile"]
    assert {r["imd_quintile"] for r in result.records} == {2}  # the analysis variable kept
    assert manifest["records_in"] == 21
    assert manifest["records_suppressed"] == 1
    assert manifest["records_out"] == 20
    assert result.suppressed_indices == (20,)
    assert manifest["k"] == 10
    assert manifest["smallest_class"] == 10  # 16-24 and 25-44, ten each
    assert records == original  # inputs untouched
    for g in manifest["generalisations"]:
        assert g["records_in_small_classes_before"] >= g["records_in_small_classes_after"]


def test_suppression_budget_stops_generalisation_early() -> None:
    records = [_record("25-44", "woman", 2, "school") for _ in range(99)]
    records.append(_record("65+", "man", 5, "workplace"))
    result = k_anonymise(records, k=10, max_suppressed_fraction=0.05)
    assert result.manifest["generalisations"] == []
    assert result.manifest["records_suppressed"] == 1
    assert {r["gender"] for r in result.records} == {"woman"}


def test_fewer_than_k_records_are_all_suppressed() -> None:
    result = k_anonymise([_record("25-44", "woman", 2, "school")] * 3, k=10)
    assert result.records == []
    assert result.manifest["records_suppressed"] == 3
    assert result.manifest["smallest_class"] is None


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("k", [5, 10, 25])
def test_synthetic_export_is_k_anonymous(seed: int, k: int) -> None:
    records = sample_export_records(800, seed=seed)
    result = k_anonymise(records, k=k)
    assert min(_classes(result.records).values()) >= k
    assert result.manifest["records_out"] + result.manifest["records_suppressed"] == 800
    assert len(result.records) == result.manifest["records_out"]
    kept_ids = {r["player_id"] for r in result.records}
    dropped_ids = {records[i]["player_id"] for i in result.suppressed_indices}
    assert kept_ids.isdisjoint(dropped_ids)
    assert len(kept_ids | dropped_ids) == 800
    if result.manifest["records_suppressed"]:
        tried = result.manifest["generalisations"] + result.manifest["steps_undone"]
        assert len(tried) == 4  # everything tried first


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError):
        k_anonymise([], k=0)
    with pytest.raises(ValueError):
        k_anonymise([], max_suppressed_fraction=2.0)


def test_the_step_losing_least_information_per_record_rescued_goes_first() -> None:
    # team kind: two kinds in equal numbers (1 bit); gender: 9 of 10 the same (0.47 bits):
    # either makes every class 10 strong, gender loses less
    records = [_record("5-11", "girl", 1, "school") for _ in range(9)]
    records += [_record("5-11", "boy", 1, "school")]
    records += [_record("5-11", "girl", 1, "family") for _ in range(9)]
    records += [_record("5-11", "boy", 1, "family")]
    result = k_anonymise(records, k=10)
    [step] = result.manifest["generalisations"]
    assert step["step"] == "gender_any"
    assert step["information_loss_bits"] == pytest.approx(0.469, abs=1e-3)
    assert result.manifest["information_loss_bits"] == step["information_loss_bits"]
    assert {r["team_kind"] for r in result.records} == {"school", "family"}
