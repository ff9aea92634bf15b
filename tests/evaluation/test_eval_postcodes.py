import pytest

from geo.postcodes import (
    compact_postcode,
    is_plausible_postcode,
    normalise_postcode,
    outward_code,
)


@pytest.mark.parametrize(
    ("typed", "pcds"),
    [
        ("bb11 3df", "BB11 3DF"),
        ("  BB113DF ", "BB11 3DF"),
        ("bb1 1  3 d f", "BB11 3DF"),
        ("m11ae", "M1 1AE"),
        ("M1  1AE", "M1 1AE"),  # pcd7 form
        ("M1   1AE", "M1 1AE"),  # pcd8 form
        ("sw1a\t1aa", "SW1A 1AA"),
        ("SW1A\u00a01AA", "SW1A 1AA"),  # no-break space
        ("ec1a 1bb\n", "EC1A 1BB"),
        ("gir0aa", "GIR 0AA"),
    ],
)
def test_normalise_to_pcds(typed: str, pcds: str) -> None:
    assert normalise_postcode(typed) == pcds


def test_short_strings_are_compacted_without_space() -> None:
    assert normalise_postcode(" a b ") == "AB"
    assert normalise_postcode("") == ""
    assert compact_postcode(" ab 1 ") == "AB1"


@pytest.mark.parametrize(
    "text", ["BB11 3DF", "m1 1ae", "SW1A1AA", "EC1A 1BB", "W1A 0AX", "CR2 6XH", "GIR 0AA"]
)
def test_plausible(text: str) -> None:
    assert is_plausible_postcode(text)


@pytest.mark.parametrize(
    "text", ["", "BB11", "12345", "BB11 DF3", "ABC1 1AA", "Q", "BB11 3DFX", "1B1 1AA"]
)
def test_implausible(text: str) -> None:
    assert not is_plausible_postcode(text)


def test_outward_code() -> None:
    assert outward_code("bb113df") == "BB11"
    assert outward_code("M1 1AE") == "M1"
