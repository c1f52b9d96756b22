"""Personal-data detectors: a registry of plug-ins, each a code, a Chinese label, a candidate regex and a validator.

A detector's `pattern` finds candidates in text. It is written in the subset of regex syntax that both Python's `re`
and RE2 (DuckDB's `regexp_matches`) read the same way — no lookarounds, no `\\d`/`\\s`/`\\w` (they differ on
Unicode), literal CJK in character classes — so DuckDB can test a whole column for candidates and Python validates
only the cells that have one. `left`/`right` are lookarounds added on the Python side to stop a candidate being cut
out of a longer run (the 11 digits inside a 13-digit order number); they only narrow, so the RE2 test stays a
superset. `validate` decides one candidate: checksums, dates, number ranges.

A new detector is one decorated function:

    @register(code="student_id", label=_("学号"), pattern=r"20[0-9]{8}", header_hints=("学号",))
    def student_id(candidate: str) -> bool:
        \"\"\"What it finds and why the check is enough.\"\"\"
        return ...
"""

from __future__ import annotations

import datetime as dt
import inspect
import ipaddress
import operator
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.utils.translation import gettext_lazy as _

from citydata.privacy import chinese, lexicon

Finder = Callable[[str, bool], Iterator[tuple[int, int]]]
WHITESPACE = chinese.WHITESPACE  # trimmed around a whole cell, here and in DuckDB
Masker = Callable[[str], str]


@dataclass(frozen=True)
class Detector:
    """One kind of personal data. See the module docstring for how the two regexes and the validator work."""

    code: str
    label: Any  # a lazy Chinese string
    pattern: str
    validate: Callable[[str], bool]
    doc: str
    cell_pattern: str = ""  # what a whole cell of this type looks like (full match); defaults to `pattern`
    left: str = ""
    right: str = ""
    header_hints: tuple[str, ...] = ()  # substrings of a column header that suggest this type
    context: tuple[str, ...] = ()  # words just before a value in running text that name this type
    strength: float = 0.9  # how much one valid value says on its own: ~1 with a checksum, low for names
    finder: Finder | None = None  # a custom way to find spans in text; called only where `pattern` matches
    masker: Masker | None = None
    rivals: tuple[str, ...] = field(default=())  # types the same string can also pass (18-digit numbers)
    needs_ascii: bool = True  # every candidate holds an ASCII letter or digit (not so for names and addresses)

    @cached_property
    def compiled(self) -> re.Pattern[str]:
        return re.compile(f"{self.left}(?:{self.pattern}){self.right}")

    @cached_property
    def prefilter(self) -> re.Pattern[str]:
        """The candidate test exactly as DuckDB runs it, for the pure-Python path."""
        return re.compile(self.pattern)

    @cached_property
    def flag_pattern(self) -> str:
        """`pattern` with its boundaries in a form RE2 can test (a neighbouring character or the end, consumed),
        so DuckDB flags only cells where the Python regex, lookarounds and all, can match."""
        left, right = _SIMPLE_BEHIND.fullmatch(self.left), _SIMPLE_AHEAD.fullmatch(self.right)
        before = f"(?:^|[^{left.group(1)}])" if left else ""
        after = f"(?:[^{right.group(1)}]|$)" if right else ""
        return f"{before}(?:{self.pattern}){after}"

    @cached_property
    def cell_compiled(self) -> re.Pattern[str]:
        return re.compile(self.cell_pattern or self.pattern)

    @property
    def cell_regex(self) -> str:
        return self.cell_pattern or self.pattern

    def find(self, text: str, *, hinted: bool = False, prefiltered: bool = False) -> Iterator[tuple[int, int]]:
        """Spans of valid values of this type in `text`; `hinted` when the column header names this type (then a
        whole cell of the type counts even without a context word); `prefiltered` when DuckDB has already found
        a candidate in it."""
        whole = hinted and self.cell_compiled.fullmatch(text.strip(WHITESPACE))
        if not prefiltered and not whole and not self.prefilter.search(text):
            return
        if self.finder is not None:
            yield from self.finder(text, hinted)
            return
        for match in self.compiled.finditer(text):
            if self.validate(match.group()):
                yield match.start(), match.end()

    def is_cell(self, value: str) -> bool:
        """Is the whole (trimmed) cell a value of this type?"""
        return bool(self.cell_compiled.fullmatch(value)) and self.validate(value)


REGISTRY: dict[str, Detector] = {}
_SIMPLE_BEHIND = re.compile(r"\(\?<!\[([^\]]+)\]\)")
_SIMPLE_AHEAD = re.compile(r"\(\?!\[([^\]]+)\]\)")


def register(
    *,
    code: str,
    label: Any,
    pattern: str,
    cell_pattern: str = "",
    left: str = "",
    right: str = "",
    header_hints: tuple[str, ...] = (),
    context: tuple[str, ...] = (),
    strength: float = 0.9,
    finder: Finder | None = None,
    masker: Masker | None = None,
    rivals: tuple[str, ...] = (),
    needs_ascii: bool = True,
) -> Callable[[Callable[[str], bool]], Callable[[str], bool]]:
    """Register the decorated validator as the detector `code`; its docstring documents the detector."""

    def wrap(validate: Callable[[str], bool]) -> Callable[[str], bool]:
        if code in REGISTRY:
            raise ValueError(f"detector {code!r} is registered twice")
        REGISTRY[code] = Detector(
            code=code,
            label=label,
            pattern=pattern,
            validate=validate,
            doc=inspect.cleandoc(validate.__doc__ or ""),
            cell_pattern=cell_pattern,
            left=left,
            right=right,
            header_hints=header_hints,
            context=context,
            strength=strength,
            finder=finder,
            masker=masker,
            rivals=rivals,
            needs_ascii=needs_ascii,
        )
        return validate

    return wrap


def detectors() -> list[Detector]:
    """Every registered detector, in registration order (the order breaks ties between overlapping finds)."""
    return list(REGISTRY.values())


def get(code: str) -> Detector:
    return REGISTRY[code]


# --- helpers ---------------------------------------------------------------------------------------------------

_NOT_DIGIT = re.compile(r"[^0-9]")
_NO_DIGIT_BEFORE, _NO_DIGIT_AFTER = "(?<![0-9])", "(?![0-9])"
_NO_ALNUM_BEFORE, _NO_ALNUM_AFTER = "(?<![0-9A-Za-z])", "(?![0-9A-Za-z])"


def _digits(text: str) -> str:
    return text if text.isascii() and text.isdigit() else _NOT_DIGIT.sub("", text)


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _keep(text: str, head: int, tail: int) -> str:
    """Keep `head` and `tail` characters, a star for each one between."""
    if len(text) <= head + tail:
        return "*" * len(text)
    return text[:head] + "*" * (len(text) - head - tail) + text[len(text) - tail :]


def luhn_valid(number: str) -> bool:
    """The Luhn (ISO/IEC 7812) check digit of a card number."""
    digits = number.encode()  # ASCII digits: each byte minus 48 is the digit
    odd = sum(digits[-1::-2]) - 48 * len(digits[-1::-2])
    return (odd + sum(map(_LUHN_DOUBLE.__getitem__, digits[-2::-2]))) % 10 == 0


_LUHN_DOUBLE = (0,) * 48 + (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)  # by byte value: a digit doubled, its two digits added


# GB 11643-1999: ISO 7064 MOD 11-2 — weight of position i (1-based, left to right) is 2^(18-i) mod 11.
_ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_ID_ZEROS = 48 * sum(_ID_WEIGHTS)  # what the ASCII code of "0" adds at every position
_ID_CHECK = "10X98765432"


def resident_id_check_char(first17: str) -> str:
    """The 18th character of a resident ID whose first 17 digits (ASCII) are given."""
    return _ID_CHECK[(sum(map(operator.mul, first17.encode(), _ID_WEIGHTS)) - _ID_ZEROS) % 11]


# GB 32100-2015: 31 characters (no I, O, Z, S, V); weight of position i is 3^(i-1) mod 31.
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(USCC_CHARSET)}
_USCC_CHARS = frozenset(USCC_CHARSET)
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))


def uscc_check_char(first17: str) -> str:
    """The 18th character of a unified social credit code whose first 17 characters are given."""
    total = sum(map(operator.mul, map(_USCC_VALUE.__getitem__, first17), _USCC_WEIGHTS))
    return USCC_CHARSET[(31 - total % 31) % 31]


# --- resident ID -------------------------------------------------------------------------------------------------


_YEAR_STARTED = dt.date.today().year  # a birth year before it is in the past without asking the clock again


def _mask_resident_id(value: str) -> str:
    return _keep(value, 6, 4)


@register(
    code="resident_id",
    label=_("居民身份证号"),
    pattern=r"[1-9][0-9]{5}(?:[0-9]{11}[0-9Xx]|[0-9]{9})",
    left=_NO_DIGIT_BEFORE,
    right=_NO_ALNUM_AFTER,
    header_hints=("身份证", "证件号", "公民身份号码", "身份号码", "idcard", "id_card", "id_no", "sfz"),
    context=lexicon.ID_CONTEXT,
    strength=1.0,
    masker=_mask_resident_id,
    rivals=("bank_card", "uscc"),
)
def resident_id(candidate: str) -> bool:
    """居民身份证号 (GB 11643-1999). 18 characters: a 6-digit region code, the birth date YYYYMMDD, a 3-digit
    sequence and a check character (ISO 7064 MOD 11-2, 0–9 or X). The birth date must exist, be in 1900 or later
    and not in the future. The 15-digit IDs issued before 1999 have YYMMDD (19YY) and no check character.

    Only the province part of the region code is checked (the first two digits must be a province-level code):
    county codes are renamed and merged over time and valid old IDs keep codes no current table lists — a full
    table check (python-stdnum's cn.ric) rejects Mianyang's 510703/510704."""
    value = candidate.upper()
    if value[:2] not in lexicon.PROVINCE_CODES or not value.isascii():
        return False
    if len(value) == 18:
        if not value[:17].isdigit():
            return False
        born = _date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
        if born is None or born.year < 1900 or (born.year >= _YEAR_STARTED and born > dt.date.today()):
            return False
        return resident_id_check_char(value[:17]) == value[17]
    if len(value) == 15 and value.isdigit():
        return _date(1900 + int(value[6:8]), int(value[8:10]), int(value[10:12])) is not None
    return False


# --- mobile and landline numbers ---------------------------------------------------------------------------------

# Mainland mobile number ranges in use (MIIT allocations): 13x, 145–149, 150–153 and 155–159, 162 and 165–167,
# 170–178, 18x, 190–193 and 195–199. 140–144 are 13-digit IoT numbers; 154 and 194 are unallocated.
MOBILE_PREFIXES = frozenset(
    [f"13{d}" for d in range(10)]
    + ["145", "146", "147", "148", "149", "150", "151", "152", "153", "155", "156", "157", "158", "159"]
    + ["162", "165", "166", "167", "170", "171", "172", "173", "174", "175", "176", "177", "178"]
    + [f"18{d}" for d in range(10)]
    + ["190", "191", "192", "193", "195", "196", "197", "198", "199"]
)


def _mobile_digits(candidate: str) -> str:
    digits = _digits(candidate)
    if len(digits) == 15 and digits.startswith("0086"):
        return digits[4:]
    if len(digits) == 13 and digits.startswith("86"):
        return digits[2:]
    return digits


def _mask_mobile(value: str) -> str:
    return _keep(_mobile_digits(value), 3, 4)


@register(
    code="mobile",
    label=_("手机号码"),
    pattern=r"(?:(?:\+|00)86[ -]?)?1[3-9][0-9](?:[ -]?[0-9]{4}){2}",
    left="(?<![0-9+])",
    right=_NO_DIGIT_AFTER,
    header_hints=("手机", "电话", "联系方式", "移动电话", "mobile", "phone", "tel"),
    context=("手机", "电话", "联系方式", "致电", "来电", "手机号"),
    strength=0.95,
    masker=_mask_mobile,
)
def mobile(candidate: str) -> bool:
    """手机号码. 11 digits in a mainland mobile range (13x–19x as allocated today; see MOBILE_PREFIXES), with an
    optional +86 or 0086 prefix and spaces or hyphens between the 3-4-4 groups (138 1234 5678)."""
    digits = _mobile_digits(candidate)
    return len(digits) == 11 and digits[:3] in MOBILE_PREFIXES


def _landline_parts(candidate: str) -> tuple[str, str] | None:
    digits = _digits(candidate)
    area_len = 3 if digits[1:2] in ("1", "2") else 4
    area, number = digits[:area_len], digits[area_len:]
    if area_len == 3 and area != "010" and not area.startswith("02"):
        return None
    if area_len == 4 and area[1] not in "3456789":
        return None
    if len(number) not in ((8,) if area_len == 3 else (7, 8)) or number[0] in "01":
        return None
    return area, number


def _mask_landline(value: str) -> str:
    parts = _landline_parts(value)
    if parts is None:
        return _keep(_digits(value), 3, 2)
    area, number = parts
    return f"{area}-{_keep(number, 0, 4)}"


@register(
    code="landline",
    label=_("固定电话"),
    pattern=r"(?:\(0[1-9][0-9]{1,2}\)|（0[1-9][0-9]{1,2}）|0[1-9][0-9]{1,2}[- ]?)[2-9][0-9]{6,7}",
    left=_NO_DIGIT_BEFORE,
    right=_NO_DIGIT_AFTER,
    header_hints=("电话", "座机", "固话", "联系方式", "办公电话", "phone", "tel"),
    context=("电话", "座机", "固话", "致电"),
    strength=0.85,
    masker=_mask_landline,
)
def landline(candidate: str) -> bool:
    """固定电话. An area code — 010 or 02x (3 digits, then 8), or 0[3-9]xx (4 digits, then 7 or 8) — and a local
    number that does not start with 0 or 1; written 0816-2345678, (028)85123456, 0816 2345678 or run together."""
    return _landline_parts(candidate) is not None


# --- bank cards --------------------------------------------------------------------------------------------------


def _mask_card(value: str) -> str:
    return _keep(_digits(value), 6, 4)


@register(
    code="bank_card",
    label=_("银行卡号"),
    pattern=r"[3-69][0-9]{15,18}|[3-69][0-9]{3}(?:[ -][0-9]{4}){3}(?:[ -]?[0-9]{1,3})?",
    left=_NO_DIGIT_BEFORE,
    right=_NO_DIGIT_AFTER,
    header_hints=("银行卡", "卡号", "账号", "帐号", "账户", "帐户", "银行", "card", "account"),
    context=lexicon.BANK_CONTEXT,
    strength=0.9,
    masker=_mask_card,
    rivals=("resident_id", "uscc"),
)
def bank_card(candidate: str) -> bool:
    """银行卡号. 16–19 digits (optionally in groups of four) that pass the Luhn check and start like a card
    number in use here: 62 UnionPay, 4 Visa, 5 Mastercard, 3 JCB, 9 old domestic cards (9558…).

    One in ten random digit strings passes Luhn, and an 18-digit UnionPay number can also pass the resident-ID
    check: context decides (the column header, or words like 卡号/银行/账号 versus 身份证 just before it)."""
    digits = _digits(candidate)
    if not 16 <= len(digits) <= 19 or digits.count(digits[0]) == len(digits):
        return False
    if len(digits) != len(candidate):
        groups = re.split("[ -]", candidate)
        if any(len(g) != 4 for g in groups[:-1]):
            return False  # written in groups, they are groups of four
    return luhn_valid(digits)


# --- unified social credit code ----------------------------------------------------------------------------------

_USCC_CLASS = "[0-9A-HJ-NP-RTUWXY]"


@register(
    code="uscc",
    label=_("统一社会信用代码"),
    pattern=f"{_USCC_CLASS}{{2}}[0-9]{{6}}{_USCC_CLASS}{{10}}",
    left=_NO_ALNUM_BEFORE,
    right=_NO_ALNUM_AFTER,
    header_hints=("信用代码", "社会信用", "统一代码", "营业执照", "纳税人识别号", "税号", "uscc", "credit_code"),
    context=lexicon.USCC_CONTEXT,
    strength=1.0,
    masker=lambda value: _keep(value, 6, 2),
    rivals=("resident_id", "bank_card"),
)
def uscc(candidate: str) -> bool:
    """统一社会信用代码 (GB 32100-2015). 18 characters from 0–9 and the capitals without I, O, Z, S, V:
    registration authority (position 1) and organisation category (position 2) — digits or letters, as the
    standard allows both —, a 6-digit region code whose first two digits are a province-level code (or 10 for
    central bodies), a 9-character organisation code and a check character (MOD 31, weights 3^(i-1))."""
    if len(candidate) != 18 or candidate[0] == "0" or candidate[1] == "0":
        return False
    if candidate[2:4] not in lexicon.PROVINCE_CODES and candidate[2:4] != "10":
        return False
    if not _USCC_CHARS.issuperset(candidate):
        return False
    return uscc_check_char(candidate[:17]) == candidate[17]


# --- passports and permits ---------------------------------------------------------------------------------------


@register(
    code="passport",
    label=_("护照号"),
    pattern=r"E[0-9]{8}|E[A-HJ-NP-Z][0-9]{7}|G[0-9]{8}",
    left=_NO_ALNUM_BEFORE,
    right=_NO_ALNUM_AFTER,
    header_hints=("护照", "passport"),
    context=("护照", "护照号"),
    strength=0.85,
    masker=lambda value: _keep(value, 1, 2),
)
def passport(candidate: str) -> bool:
    """护照号 of a PRC ordinary passport: E + 8 digits, E + a letter + 7 digits (electronic passports since
    2017), or the older G + 8 digits. There is no public check digit, so the shape is all there is; a serial of
    all zeros is refused."""
    return candidate[-7:] != "0000000"


@register(
    code="hk_macau_permit",
    label=_("港澳通行证号"),
    pattern=r"C[0-9A-HJ-NP-Z][0-9]{7}|[HM][0-9]{8,10}",
    left=_NO_ALNUM_BEFORE,
    right=_NO_ALNUM_AFTER,
    header_hints=("通行证", "回乡证", "港澳", "permit"),
    context=("通行证", "回乡证", "港澳"),
    strength=0.8,
    masker=lambda value: _keep(value, 1, 2),
)
def hk_macau_permit(candidate: str) -> bool:
    """港澳通行证号: the mainland residents' Exit-Entry Permit for Hong Kong and Macau, C + 8 characters
    (a letter or digit, then 7 digits), and the Hong Kong/Macau residents' Home Return Permit (回乡证), H or M + 8
    digits, or + 10 with the 2-digit renewal count. No check digit; a serial of all zeros is refused."""
    return candidate[-7:] != "0000000"


# --- vehicle plates ----------------------------------------------------------------------------------------------

_PLATE_LETTER = "[A-HJ-NP-Z]"


def _mask_plate(value: str) -> str:
    compact = value.replace("·", "").replace(" ", "")
    return _keep(compact, 2, 1)


@register(
    code="vehicle_plate",
    label=_("车牌号"),
    pattern=(
        f"[{lexicon.PLATE_PROVINCES}]{_PLATE_LETTER}[·・ ]?"
        "(?:[DF][A-HJ-NP-Z0-9][0-9]{4}|[0-9]{5}[DF]|[A-HJ-NP-Z0-9]{4}[挂学警港澳领]|[A-HJ-NP-Z0-9]{5})"
    ),
    right=_NO_ALNUM_AFTER,
    header_hints=("车牌", "号牌", "车辆号码", "plate"),
    context=("车牌", "号牌", "车号"),
    strength=0.9,
    masker=_mask_plate,
)
def vehicle_plate(candidate: str) -> bool:
    """车牌号 (GA 36). A province abbreviation, the issuing authority's letter (not I or O), then either 5
    characters — at most two letters, or 4 characters and 挂/学/警/港/澳/领 — or, on the 8-character new-energy
    plates, D or F then a letter or digit then 4 digits (small cars) or 5 digits then D or F (large vehicles)."""
    body = candidate[2:].lstrip("·・ ")
    if len(body) == 6:
        small = body[0] in "DF" and body[1].isascii() and body[2:].isdigit()
        large = body[:5].isdigit() and body[5] in "DF"
        return small or large
    if len(body) != 5:
        return False
    letters = sum(c.isascii() and c.isalpha() for c in body)
    return letters <= 2 and any(c.isdigit() for c in body)


# --- e-mail and IP addresses -------------------------------------------------------------------------------------


def _mask_email(value: str) -> str:
    local, _sep, domain = value.partition("@")
    return f"{local[:1]}***@{domain}"


@register(
    code="email",
    label=_("电子邮箱"),
    pattern=r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}",
    left="(?<![A-Za-z0-9._%+-])",
    right="(?![A-Za-z0-9-])",
    header_hints=("邮箱", "邮件", "email", "e-mail", "mail"),
    context=("邮箱", "邮件", "email"),
    strength=1.0,
    masker=_mask_email,
)
def email(candidate: str) -> bool:
    """电子邮箱: local part, @, a domain with a top-level name of letters. The local part may not start or end
    with a dot or hold two dots in a row, and is at most 64 characters."""
    local = candidate.partition("@")[0]
    return 0 < len(local) <= 64 and not local.startswith(".") and not local.endswith(".") and ".." not in local


@register(
    code="ipv4",
    label=_("IPv4 地址"),
    pattern=r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}",
    left="(?<![0-9.])",
    right=r"(?!\.?[0-9])",
    header_hints=("ip", "IP地址", "ip_address", "终端地址"),
    context=("IP", "ip", "地址"),
    strength=0.9,
    masker=lambda value: ".".join(value.split(".")[:2]) + ".*.*",
)
def ipv4(candidate: str) -> bool:
    """IPv4 地址: four decimal octets 0–255 without leading zeros (which would make 1.2.3.4-like version
    strings with zero padding count). 0.0.0.0 is refused; private addresses are kept — they identify a device
    inside an organisation."""
    parts = candidate.split(".")
    if any(len(p) > 1 and p[0] == "0" for p in parts) or any(int(p) > 255 for p in parts):
        return False
    return candidate != "0.0.0.0"  # noqa: S104 - compared, not bound


@register(
    code="ipv6",
    label=_("IPv6 地址"),
    pattern=r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}",
    left="(?<![0-9A-Fa-f:])",
    right="(?![0-9A-Fa-f:])",
    header_hints=("ip", "ipv6", "IP地址"),
    context=("IP", "ip", "IPv6"),
    strength=1.0,
    masker=lambda value: value.split(":")[0] + ":****",
)
def ipv6(candidate: str) -> bool:
    """IPv6 地址 as Python's ipaddress parses it (8 groups, or fewer with ::). Times (12:30:45) and MAC
    addresses do not parse; the unspecified and loopback addresses are refused."""
    try:
        address = ipaddress.IPv6Address(candidate)
    except ValueError:
        return False
    return not (address.is_unspecified or address.is_loopback)


# --- precise coordinates -----------------------------------------------------------------------------------------

# A box around China (mainland, Hainan and the islands): longitude 73.5–135.1 E, latitude 3.8–53.6 N.
LNG_RANGE = (73.5, 135.1)
LAT_RANGE = (3.8, 53.6)
_DECIMAL = r"[0-9]{1,3}\.[0-9]{4,}"
_PAIR = re.compile(r"([0-9]{1,3}\.[0-9]{4,}) *[,，/ ] *([0-9]{1,3}\.[0-9]{4,})")
_COORD_CONTEXT = re.compile(r"(?:经度|纬度|经纬度|坐标|定位|lng|lat|lon)[：: =]{0,2}$", re.IGNORECASE)
_COORD_SINGLE = re.compile(f"(?<![0-9.]){_DECIMAL}(?![0-9])")


def coordinate_axis(value: str) -> str | None:
    """ "pair" for a lng/lat (or lat/lng) pair inside China, "lng"/"lat" for one number with at least 4
    decimals in that axis's range, else None."""
    pair = _PAIR.fullmatch(value)
    if pair:
        a, b = float(pair.group(1)), float(pair.group(2))
        if (_within(a, LNG_RANGE) and _within(b, LAT_RANGE)) or (_within(a, LAT_RANGE) and _within(b, LNG_RANGE)):
            return "pair"
        return None
    if not re.fullmatch(_DECIMAL, value):
        return None
    number = float(value)
    if _within(number, LNG_RANGE):
        return "lng"
    return "lat" if _within(number, LAT_RANGE) else None


def _within(number: float, bounds: tuple[float, float]) -> bool:
    return bounds[0] <= number <= bounds[1]


_DECIMALS_AFTER_TWO = re.compile(r"(\.[0-9]{2})[0-9]+")


def _two_decimals(match: re.Match[str]) -> str:
    return match.group(1) + "**"


def _find_coordinates(text: str, hinted: bool) -> Iterator[tuple[int, int]]:
    taken: list[tuple[int, int]] = []
    for match in _PAIR.finditer(text):
        before = text[match.start() - 1 : match.start()]
        after = text[match.end() : match.end() + 1]
        if (before and (before.isdigit() or before == ".")) or (after and after.isdigit()):
            continue
        if coordinate_axis(match.group()) == "pair":
            taken.append(match.span())
            yield match.span()
    for match in _COORD_SINGLE.finditer(text):
        if any(s <= match.start() < e for s, e in taken):
            continue
        named = _COORD_CONTEXT.search(text, max(0, match.start() - 8), match.start())
        if (hinted or named) and coordinate_axis(match.group()) in ("lng", "lat"):
            yield match.span()


@register(
    code="coordinates",
    label=_("精确坐标"),
    pattern=_DECIMAL,
    cell_pattern=f"{_DECIMAL}(?: *[,，/ ] *{_DECIMAL})?",
    header_hints=("经度", "纬度", "经纬度", "坐标", "定位", "lng", "lat", "lon", "longitude", "latitude"),
    context=("经度", "纬度", "经纬度", "坐标", "定位"),
    strength=0.9,
    finder=_find_coordinates,
    masker=lambda value: _DECIMALS_AFTER_TWO.sub(_two_decimals, value),
)
def coordinates(candidate: str) -> bool:
    """精确坐标: a longitude/latitude pair (either order, separated by a comma, slash or space) inside China's
    box, each with at least 4 decimals (about 10 m); or a single such number, which counts in running text only
    after 经度/纬度/坐标/lng/lat, and in a column only with such a header or next to a column of the other axis."""
    return coordinate_axis(candidate) is not None


# --- person names ------------------------------------------------------------------------------------------------


@register(
    code="person_name",
    label=_("姓名"),
    pattern=chinese.NAME_PREFILTER,
    cell_pattern=chinese.NAME_CELL,
    header_hints=(
        "姓名",
        "名字",
        "联系人",
        "患者",
        "病人",
        "申请人",
        "户主",
        "法定代表人",
        "法人",
        "负责人",
        "经办人",
        "驾驶人",
        "车主",
        "户名",
        "持卡人",
        "监护人",
        "家属",
        "name",
    ),
    context=lexicon.NAME_CONTEXT,
    strength=0.6,
    finder=chinese.find_names,
    masker=chinese.mask_name,
    needs_ascii=False,
)
def person_name(candidate: str) -> bool:
    """姓名: one of ~510 surnames (the Hundred Family Surnames and common modern ones, two-character ones like
    欧阳/司马 included) and one or two given characters, or a minority name with a middle dot (阿依古丽·买买提).
    A string ending in a character of place names, institutions or illnesses (区/院/科/病…) is not a name.

    Two or three Chinese characters are a name far too often by chance (高血压 is surname 高 + 血压), so in running
    text a name counts only right after a word like 患者/联系人/姓名/申请人 or before 先生/女士/医生; whole cells
    count in a column whose header says 姓名/联系人/患者… or whose cells are mostly names."""
    return chinese.is_person_name(candidate)


# --- street addresses --------------------------------------------------------------------------------------------


@register(
    code="address",
    label=_("详细地址"),
    pattern=chinese.ADDRESS_PREFILTER,
    cell_pattern=chinese.ADDRESS_CELL,
    header_hints=("地址", "住址", "居住地", "户籍地", "住所", "家庭住址", "通讯地址", "address", "addr"),
    context=("家住", "住址", "地址", "住在", "位于", "现住"),
    strength=0.8,
    finder=chinese.find_addresses,
    masker=chinese.mask_address,
    needs_ascii=False,
)
def address(candidate: str) -> bool:
    """详细地址: administrative divisions (省/市/区/县/旗/镇/乡/街道/村), then road (路/街/巷/弄/大道) and
    number (号), estate (小区/花园/苑), building (栋/幢/座), unit (单元), floor and room (室), or a village group
    (组). At least two parts, one of them finer than a street (a number, building, unit, room or group): a
    district alone is not personal data. In running text an address starts at a province name or after words like
    家住/地址/位于; without them a few words before the first division may be taken in (a known limit: there is
    no full gazetteer of place names here). A cell is an address when its structured reading covers ≥ 70% of it."""
    return chinese.is_address(candidate)


def types_for_header(header: str) -> tuple[str, ...]:
    """The personal-data types a column header names, in registration order: 身份证号 → resident_id; 联系电话 →
    mobile and landline (both take 电话). The longest hint wins, so 银行卡号 is a card only."""
    lowered = header.strip().lower()
    if not lowered:
        return ()
    best, codes = 0, []
    for detector in REGISTRY.values():
        for hint in detector.header_hints:
            h = hint.lower()
            # ASCII hints are whole words: "tel" is not in "hotel", nor "name" in "filename"
            hit = re.search(rf"(?<![a-z]){re.escape(h)}(?![a-z])", lowered) if h.isascii() else h in lowered
            if hit and len(h) > best:
                best, codes = len(h), [detector.code]
            elif hit and len(h) == best and detector.code not in codes:
                codes.append(detector.code)
    return tuple(codes)


def type_for_header(header: str) -> str | None:
    """The first type the header names, or None."""
    codes = types_for_header(header)
    return codes[0] if codes else None
