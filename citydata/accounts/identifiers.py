"""Checks for Chinese identifiers: resident ID (GB 11643), unified social credit code (GB 32100), mobile numbers.

Written here rather than taken from python-stdnum because stdnum's `cn.ric` rejects valid IDs of
districts created after 1992 for older birth dates (e.g. Mianyang 510703/510704) and `cn.uscc`
rejects letters in positions 1–2, which GB 32100 allows.
"""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

RESIDENT_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
RESIDENT_ID_CHECK_CHARS = "10X98765432"
# First two digits of an administrative division code: provinces, plus 71/81/82 (Taiwan, Hong Kong, Macau)
# and 83 (residence permits for Taiwan residents).
PROVINCE_CODES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54}
    | {61, 62, 63, 64, 65, 71, 81, 82, 83}
)
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
USCC_PATTERN = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
MOBILE_PATTERN = re.compile(r"^1[3-9]\d{9}$")
_SEPARATORS = re.compile(r"[\s\-]")


def normalize_resident_id(value: str) -> str:
    return _SEPARATORS.sub("", value or "").upper()


def resident_id_check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, RESIDENT_ID_WEIGHTS, strict=True))
    return RESIDENT_ID_CHECK_CHARS[total % 11]


def validate_resident_id(value: str, *, today: dt.date | None = None) -> str:
    """Return the normalised 18-digit resident ID, or raise ValidationError saying what is wrong."""
    number = normalize_resident_id(value)
    if not re.fullmatch(r"\d{17}[\dX]", number):
        raise ValidationError(_("身份证号应为18位：17位数字加1位数字或X。"), code="resident_id_format")
    if int(number[:2]) not in PROVINCE_CODES:
        raise ValidationError(_("身份证号前两位不是有效的省级行政区划代码。"), code="resident_id_region")
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(_("身份证号中的出生日期无效。"), code="resident_id_birth") from None
    if birth.year < 1900 or birth > (today or dt.date.today()):
        raise ValidationError(_("身份证号中的出生日期无效。"), code="resident_id_birth")
    if resident_id_check_char(number[:17]) != number[17]:
        raise ValidationError(_("身份证号校验位不正确，请核对后重新输入。"), code="resident_id_checksum")
    return number


def mask_resident_id(number: str) -> str:
    """510703********1234: region kept, birth date and sequence hidden."""
    if len(number) < 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31]


def validate_uscc(value: str) -> str:
    """Return the normalised unified social credit code, or raise ValidationError."""
    code = _SEPARATORS.sub("", value or "").upper()
    if len(code) != 18:
        raise ValidationError(_("统一社会信用代码应为18位。"), code="uscc_length")
    if not USCC_PATTERN.fullmatch(code):
        raise ValidationError(
            _("统一社会信用代码含有无效字符：第3至8位应为数字，且不使用字母I、O、Z、S、V。"), code="uscc_format"
        )
    if uscc_check_char(code[:17]) != code[17]:
        raise ValidationError(_("统一社会信用代码校验位不正确，请核对后重新输入。"), code="uscc_checksum")
    return code


def normalize_mobile(value: str) -> str:
    number = _SEPARATORS.sub("", value or "")
    for prefix in ("+86", "0086"):
        if number.startswith(prefix):
            number = number[len(prefix) :]
    return number


def validate_mobile(value: str) -> str:
    number = normalize_mobile(value)
    if not MOBILE_PATTERN.fullmatch(number):
        raise ValidationError(_("请输入有效的11位手机号码。"), code="mobile_format")
    return number


def mask_mobile(number: str) -> str:
    return number[:3] + "****" + number[-4:] if len(number) == 11 else number
