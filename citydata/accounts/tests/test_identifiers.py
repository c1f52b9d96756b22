import datetime as dt
import random

import pytest
from django.core.exceptions import ValidationError

from citydata.accounts.identifiers import (
    USCC_CHARS,
    mask_resident_id,
    resident_id_check_char,
    uscc_check_char,
    validate_mobile,
    validate_resident_id,
    validate_uscc,
)


def make_id(prefix: str, birth: str, seq: str = "123") -> str:
    first17 = prefix + birth + seq
    return first17 + resident_id_check_char(first17)


@pytest.mark.parametrize(
    "number",
    [
        "11010519491231002X",  # the standard's own example
        make_id("510703", "19850615"),  # Mianyang Fucheng, born before the district existed (stdnum rejects it)
        make_id("510704", "19700101"),  # Mianyang Youxian
        make_id("510781", "20000229"),  # leap day
    ],
)
def test_valid_resident_ids_pass(number):
    assert validate_resident_id(number) == number


def test_lowercase_x_and_spaces_are_normalised():
    assert validate_resident_id("110105 19491231 002x") == "11010519491231002X"


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("11010519491231002", "resident_id_format"),
        ("11010519491231002Y", "resident_id_format"),
        ("99010519491231002X", "resident_id_region"),
        (make_id("510703", "19850230"), "resident_id_birth"),
        (make_id("510703", "18891231"), "resident_id_birth"),
        ("110105194912310021", "resident_id_checksum"),
    ],
)
def test_invalid_resident_ids_name_the_problem(number, code):
    with pytest.raises(ValidationError) as caught:
        validate_resident_id(number)
    assert caught.value.code == code


def test_future_birth_date_is_rejected():
    number = make_id("510703", "20300101")
    with pytest.raises(ValidationError):
        validate_resident_id(number, today=dt.date(2026, 11, 27))


def test_any_single_digit_change_breaks_the_checksum():
    rng = random.Random(7)
    for _ in range(200):
        number = make_id(
            "5107" + f"{rng.randint(1, 99):02d}", f"19{rng.randint(10, 99)}0{rng.randint(1, 9)}1{rng.randint(0, 9)}"
        )
        position = rng.randrange(14, 17)  # sequence digits: changing them keeps region and birth date valid
        digit = str((int(number[position]) + rng.randint(1, 9)) % 10)
        changed = number[:position] + digit + number[position + 1 :]
        with pytest.raises(ValidationError):
            validate_resident_id(changed)


def test_mask_keeps_region_and_last_four_only():
    assert mask_resident_id("11010519491231002X") == "110105********002X"


def make_uscc(first17: str) -> str:
    return first17 + uscc_check_char(first17)


@pytest.mark.parametrize(
    "code",
    [
        "91350100M000100Y43",  # a published example
        make_uscc("Y1510700MA6AB12C3"),  # letters in positions 1-2 are legal (stdnum rejects them)
        make_uscc("N2510703000000000"),
    ],
)
def test_valid_credit_codes_pass(code):
    assert validate_uscc(code.lower()) == code


@pytest.mark.parametrize(
    ("code", "err"),
    [
        ("91350100M000100Y4", "uscc_length"),
        ("91350100M000100Y44", "uscc_checksum"),
        ("9135A100M000100Y43", "uscc_format"),  # positions 3-8 are the region code: digits only
        ("91350100M0001O0Y43", "uscc_format"),  # the letter O is never used
    ],
)
def test_invalid_credit_codes_name_the_problem(code, err):
    with pytest.raises(ValidationError) as caught:
        validate_uscc(code)
    assert caught.value.code == err


def test_every_credit_code_check_char_is_in_the_alphabet():
    rng = random.Random(3)
    for _ in range(300):
        body = rng.choice(USCC_CHARS) + rng.choice(USCC_CHARS) + "".join(rng.choice("0123456789") for _ in range(6))
        body += "".join(rng.choice(USCC_CHARS) for _ in range(9))
        code = make_uscc(body)
        assert validate_uscc(code) == code


@pytest.mark.parametrize("raw", ["13800138000", "+86 138-0013-8000", "008613800138000"])
def test_mobile_numbers_are_normalised(raw):
    assert validate_mobile(raw) == "13800138000"


@pytest.mark.parametrize("raw", ["12800138000", "1380013800", "138001380001", "abc"])
def test_bad_mobile_numbers_are_rejected(raw):
    with pytest.raises(ValidationError):
        validate_mobile(raw)
