"""Reading Chinese person names and street addresses in text: the machinery behind the person_name and address
detectors (detectors.py registers them). Without a model or a full gazetteer, names are found from a surname list
and context words, addresses from the shape of administrative divisions, roads and house numbers."""

from __future__ import annotations

import re
from collections.abc import Iterator

from citydata.privacy import lexicon

WHITESPACE = " \t\r\n\u3000"


def _keep(text: str, head: int, tail: int) -> str:
    if len(text) <= head + tail:
        return "*" * len(text)
    return text[:head] + "*" * (len(text) - head - tail) + text[len(text) - tail :]


# --- person names ------------------------------------------------------------------------------------------------

_SURNAME_CLASS = "[" + "".join(sorted(lexicon.SINGLE_SURNAMES)) + "]"
_COMPOUND_ALT = "|".join(sorted(lexicon.COMPOUND_SURNAMES))
_HAN = "[一-龥]"
_NAME_BODY = f"(?:{_COMPOUND_ALT}|{_SURNAME_CLASS}){_HAN}{{1,2}}"
_MINORITY = f"{_HAN}{{2,6}}·{_HAN}{{2,8}}"
_NAME_CONTEXT_ALT = "|".join(sorted(lexicon.NAME_CONTEXT, key=len, reverse=True))
_TITLE_ALT = "|".join(lexicon.NAME_TITLES)
_NAME_CONTEXT = re.compile(f"(?:{_NAME_CONTEXT_ALT})(?:是|为|：|:| ){{0,2}}")
_TITLE = re.compile(_TITLE_ALT)
_MINORITY_AT = re.compile(_MINORITY)
_CELL_NAME = re.compile(f"{_NAME_BODY}|{_MINORITY}")
_LEADING_VERBS = re.compile("^(?:[请由找给和与及是为向让叫]|联系|通知|告知)+")


def _is_han(ch: str) -> bool:
    return "一" <= ch <= "龥"


def _surname_length(name: str) -> int:
    return 2 if name[:2] in lexicon.COMPOUND_SURNAMES else 1 if name[:1] in lexicon.SINGLE_SURNAMES else 0


def _name_ends_at(text: str, end: int) -> bool:
    """A name may end here: the text ends, or goes on with something that is not a Chinese character, with a
    character that starts the next word (因/电/住…), or with a title (先生/女士…)."""
    if end >= len(text) or not _is_han(text[end]):
        return True
    return text[end] in lexicon.AFTER_NAME or _TITLE.match(text, end) is not None


def _name_at(text: str, start: int) -> tuple[int, int] | None:
    """The name that starts at `start` (just after a context word), if one does."""
    minority = _MINORITY_AT.match(text, start)
    if minority:
        return _minority_end(text, minority.start(), minority.end())
    surname = _surname_length(text[start : start + 2])
    if surname == 0 or text[start : start + 2] in lexicon.NOT_NAME_STARTS:
        return None
    for given in (2, 1):
        end = start + surname + given
        name = text[start:end]
        if len(name) != surname + given or not all(_is_han(c) for c in name):
            continue
        if given == 2 and name[-1] in lexicon.AFTER_NAME:
            continue
        if name[-1] not in lexicon.NON_NAME_ENDINGS and _name_ends_at(text, end):
            return start, end
    return None


def _minority_end(text: str, start: int, end: int) -> tuple[int, int] | None:
    """A name with a middle dot has no given-name length to go by: it ends before the first character that starts
    the next word (电话, 的, 医生…), at least two characters after the dot."""
    dot = text.index("·", start)
    for i in range(dot + 3, end):
        if text[i] in lexicon.AFTER_DOTTED_NAME or _TITLE.match(text, i):
            return start, i
    return start, end


def _name_before(text: str, end: int) -> tuple[int, int] | None:
    """The name that ends at `end` (just before a title such as 先生): surname + two characters when that reads
    as a name, else surname + one; a name with a middle dot is taken whole."""
    dotted = re.search(f"{_HAN}{{2,6}}·{_HAN}{{2,8}}$", text[max(0, end - 15) : end])
    if dotted:
        name = _LEADING_VERBS.sub("", dotted.group())  # 请联系努尔兰·艾力医生: the name starts after 联系
        return end - len(name), end
    for length in (4, 3, 2):
        start = end - length
        if start < 0:
            continue
        name = text[start:end]
        surname = _surname_length(name)
        if not surname or length - surname not in (1, 2) or not all(_is_han(c) for c in name):
            continue
        if length == 3 and surname == 1 and name[0] in lexicon.LEADING_WORDS and _surname_length(name[1:]):
            continue  # 请和王建先生: 和 is the word "and", the name is 王建
        if name[-1] not in lexicon.NON_NAME_ENDINGS and name[:2] not in lexicon.NOT_NAME_STARTS:
            return start, end
    return None


def find_names(text: str, hinted: bool) -> Iterator[tuple[int, int]]:
    if hinted:
        value = text.strip(WHITESPACE)
        if value and is_person_name(value):
            offset = text.index(value)
            yield offset, offset + len(value)
            return
    found: list[tuple[int, int]] = []
    for context in _NAME_CONTEXT.finditer(text):
        span = _name_at(text, context.end())
        if span:
            found.append(span)
    for title in _TITLE.finditer(text):
        span = _name_before(text, title.start())
        if span and not any(s < span[1] and span[0] < e for s, e in found):
            found.append(span)
    yield from sorted(set(found))


def mask_name(value: str) -> str:
    if "·" in value:
        return _keep(value, 1, 0)
    return _keep(value, max(_surname_length(value), 1), 0)


def is_person_name(candidate: str) -> bool:
    """A whole string that reads as a name: surname + one or two characters, or a name with a middle dot."""
    if "·" in candidate:
        return bool(_MINORITY_AT.fullmatch(candidate))
    if not _CELL_NAME.fullmatch(candidate) or candidate[:2] in lexicon.NOT_NAME_STARTS:
        return False
    return candidate[-1] not in lexicon.NON_NAME_ENDINGS


NAME_PREFILTER = (
    f"(?:{_NAME_CONTEXT_ALT})(?:是|为|：|:| ){{0,2}}(?:{_COMPOUND_ALT}|{_SURNAME_CLASS}|{_HAN}{{2,6}}·)"
    f"|(?:{_COMPOUND_ALT}|{_SURNAME_CLASS}){_HAN}{{0,3}}(?:{_TITLE_ALT})"
)
NAME_CELL = f"{_NAME_BODY}|{_MINORITY}"


# --- street addresses --------------------------------------------------------------------------------------------

_ADMIN = r"(?:[一-龥]{1,12}?(?:特别行政区|自治区|自治州|自治县|自治旗|省|市|州|盟|地区|区|县|旗))"
_TOWN = r"(?:[一-龥0-9]{1,10}?(?:街道|镇|乡|苏木|社区|村))"
_ROAD = (
    r"(?:[一-龥0-9A-Za-z]{1,12}?(?:大道|大街|胡同|路|街|巷|弄|道|里)"
    r"(?:[东西南北中]段|[一二三四五六七八九十0-9]{1,2}段)?)"
)
_NUMBER = r"(?:[0-9]{1,5}(?:-[0-9]{1,4})?号(?:院)?)"
_ESTATE = r"(?:[一-龥A-Za-z0-9]{1,12}?(?:小区|花园|公寓|大厦|广场|新村|家园|苑|城|园))"
_BUILDING = r"(?:[0-9A-Za-z一二三四五六七八九十]{1,4}(?:栋|幢|座|号楼))"
_UNIT = r"(?:[0-9一二三四五六七八九十]{1,3}单元)"
_FLOOR = r"(?:[0-9]{1,3}(?:楼|层))"
_ROOM = r"(?:[0-9]{1,5}(?:室|号|户))"
_GROUP = r"(?:[0-9一二三四五六七八九十]{1,3}(?:组|队))"
_ADDRESS = re.compile(
    f"(?P<admin>{_ADMIN}{{0,4}})(?P<town>{_TOWN}{{0,2}})(?P<road>{_ROAD}?)(?P<number>{_NUMBER}?)(?P<estate>{_ESTATE}?)"
    f"(?P<building>{_BUILDING}?)(?P<unit>{_UNIT}?)(?P<floor>{_FLOOR}?)(?P<room>{_ROOM}?)(?P<group>{_GROUP}?)"
)
_FINE = ("number", "building", "unit", "room", "group")
_UNIT_SUFFIX = "(?:省|市|区|县|旗|州|盟|镇|乡|街道|村|路|街|巷|弄|道|里|胡同)"
_FINE_SUFFIX = "(?:号|栋|幢|座|单元|室|组|队|楼|层|户)"
_ADDRESS_RUN = re.compile(r"[一-龥A-Za-z0-9\-]+")
_HAS_FINE = re.compile(_FINE_SUFFIX)
_ADDRESS_CONTEXT = re.compile(
    "居住在|居住于|家住在|家住|住在|现住址|现住|住址|地址为|地址|位于|户籍地|户籍|籍贯|来自|搬到|迁至|回到|前往|返回"
    "|住|在|于|至|到|往|为|是|系|回|去|赴"
)
_PROVINCE = re.compile("|".join(lexicon.PROVINCES))
_FIRST_SUFFIX = re.compile(_UNIT_SUFFIX)
_FIRST_NAME_MAX = 4  # a division's name before its suffix; longer means words before the address were taken in


def _address_match(text: str, start: int, end: int) -> re.Match[str] | None:
    """The structured reading of text[start:end] from its start, when it has enough parts to be an address."""
    match = _ADDRESS.match(text, start, end)
    if match is None or match.end() == start:
        return None
    groups = match.groupdict()
    parts = sum(1 for v in groups.values() if v)
    if not any(groups[g] for g in _FINE) or parts < 2:
        return None
    if groups["number"] and not (groups["road"] or groups["town"]):
        return None  # "3号" after a district alone is a bed or a room, not a street address
    return match


def _address_start(text: str, start: int, end: int) -> int:
    """Where an address inside a run of characters begins: at a province name, else after the last context word
    (家住/地址/位于…) that leaves at least two characters before the first administrative suffix."""
    province = _PROVINCE.search(text, start, end)
    first_suffix = _FIRST_SUFFIX.search(text, start, end)
    limit = first_suffix.start() if first_suffix else end
    while limit + 1 < end and text[limit + 1] in "市县区":
        limit += 1  # 杭州市, 泸州市: 州 is part of the name here, 市 the suffix
    if province and province.start() < limit:
        return province.start()
    best = start
    for word in _ADDRESS_CONTEXT.finditer(text, start, limit):
        if limit - word.end() >= 2:
            best = max(best, word.end())
    if first_suffix and limit - best > _FIRST_NAME_MAX and "族" not in text[best:limit]:
        best = limit - 2
    return best


def find_addresses(text: str, hinted: bool) -> Iterator[tuple[int, int]]:
    for run in _ADDRESS_RUN.finditer(text):
        start, end = run.span()
        if not _HAS_FINE.search(run.group()):
            continue
        begin = _address_start(text, start, end)
        match = _address_match(text, begin, end)
        if match is not None:
            yield match.start(), match.end()


_ADMIN_HEAD = re.compile(f"{_ADMIN}{{1,3}}")


def mask_address(value: str) -> str:
    match = _ADMIN_HEAD.match(value)
    keep = match.end() if match and match.end() < len(value) else min(len(value) // 3, 6)
    return value[:keep] + "*" * (len(value) - keep)


def is_address(candidate: str) -> bool:
    """A whole string whose structured reading covers at least 70% of it."""
    match = _address_match(candidate, 0, len(candidate))
    return match is not None and match.end() >= 0.7 * len(candidate)


ADDRESS_PREFILTER = f"{_UNIT_SUFFIX}[^，。；;,、 \t\r\n]{{0,80}}{_FINE_SUFFIX}"
ADDRESS_CELL = r"[一-龥A-Za-z0-9\-()（）#]{4,80}"
