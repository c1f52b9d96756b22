"""Values built from the published algorithms, so no test leans on a magic number."""

from __future__ import annotations

import pytest

# GB 11643-1999, ISO 7064 MOD 11-2: position i (1..17) weighs 2^(18-i) mod 11; the check character is
# "10X98765432"[sum mod 11]. Written out here independently of the code under test.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_check(first17: str) -> str:
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def resident_id(first17: str) -> str:
    return first17 + id_check(first17)


def luhn_complete(body: str) -> str:
    """`body` plus the digit that makes the Luhn sum a multiple of ten."""
    for digit in "0123456789":
        number = body + digit
        total = 0
        for i, ch in enumerate(reversed(number)):
            d = int(ch) * (2 if i % 2 else 1)
            total += d - 9 if d > 9 else d
        if total % 10 == 0:
            return number
    raise AssertionError("unreachable")


def ambiguous_unionpay() -> str:
    """An 18-digit number that starts like a UnionPay card (62…), passes Luhn, and also passes every resident-ID
    check (62 is Gansu's province code; 19900307 is a real date). Found by trying sequence numbers."""
    for seq in range(1000):
        first17 = "622848" + "19900307" + f"{seq:03d}"
        number = resident_id(first17)
        if number[-1] != "X" and luhn_complete(number[:-1]) == number:
            return number
    raise AssertionError("no ambiguous number found")


@pytest.fixture
def mianyang_id() -> str:
    # Born 7 March 1990 in Fucheng district, Mianyang (510703), sequence 123; the check character is computed.
    return resident_id("51070319900307123")


@pytest.fixture(autouse=True)
def _deadlines_may_reach_next_year(calendar_ahead):
    """See the root conftest's calendar_ahead."""
