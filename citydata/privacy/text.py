"""Personal data inside running text: the spans of one text (`find_in_text`), or of many texts at once whose
candidate types DuckDB has already flagged (`find_in_texts`, what a table scan calls), with overlaps resolved the
same way in both."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from citydata.privacy import detectors as registry
from citydata.privacy.detectors import Detector

CONTEXT_WINDOW = 12  # characters before a value searched for words like 卡号 or 身份证

Found = tuple[int, int, str]  # start, end, type
Masked = tuple[str, int, int, str]  # type, start, end, masked value


@dataclass(frozen=True)
class Span:
    type: str
    start: int
    end: int


def mask(value: str, type: str) -> str:
    """`value` as it may be shown: 510703********1234, 138****5678, 张*. Unknown types keep the first character."""
    detector = registry.REGISTRY.get(type)
    if detector is not None and detector.masker is not None:
        return detector.masker(value)
    return value[:1] + "*" * max(len(value) - 1, 0)


def _context_choice(text: str, start: int, types: list[str]) -> str | None:
    """Of the types an ambiguous value passes, the one whose context word stands nearest before it."""
    window_start = max(0, start - CONTEXT_WINDOW)
    window = text[window_start:start]
    best: tuple[int, str] | None = None
    for code in types:
        for word in registry.get(code).context:
            at = window.rfind(word)
            if at >= 0 and (best is None or at + len(word) > best[0]):
                best = (at + len(word), code)
    return best[1] if best else None


def _registry_order() -> dict[str, int]:
    return {code: i for i, code in enumerate(registry.REGISTRY)}


def _resolve(text: str, found: list[Found], hint: str | None, order: dict[str, int]) -> list[Found]:
    """One type per span (context, then the header, then registration order decide), then no overlaps (the
    longer span wins: an e-mail address over the phone number inside it). `found` is in any order."""
    if len({(start, end) for start, end, _code in found}) < len(found):
        by_span: dict[tuple[int, int], list[str]] = {}
        for start, end, code in found:
            by_span.setdefault((start, end), []).append(code)
        found = []
        for (start, end), codes in by_span.items():
            if len(codes) > 1:
                codes.sort(key=order.__getitem__)
                codes[0] = _context_choice(text, start, codes) or (hint if hint in codes else codes[0])
            found.append((start, end, codes[0]))
    found.sort(key=lambda f: (f[0], f[0] - f[1], order[f[2]]))
    kept = [found[0]]
    for span in found[1:]:
        last = kept[-1]
        if span[0] >= last[1]:
            kept.append(span)
        elif span[1] - span[0] > last[1] - last[0]:
            kept[-1] = span
    return kept


def find_in_text(
    text: str, *, hint: str | None = None, only: Iterable[Detector] | None = None, prefiltered: bool = False
) -> list[Span]:
    """Every value of personal data in one piece of text, overlaps resolved. `hint` is the type the column
    header names (it lets a whole cell be a name without a context word); `only` limits the detectors tried."""
    found: list[Found] = []
    for detector in registry.detectors() if only is None else only:
        for start, end in detector.find(text, hinted=hint == detector.code, prefiltered=prefiltered):
            found.append((start, end, detector.code))
    if len(found) > 1:
        found = _resolve(text, found, hint, _registry_order())
    return [Span(code, start, end) for start, end, code in found]


def find_in_texts(
    texts: Sequence[str], flags: Sequence[int], hints: Sequence[str | None], dets: Sequence[Detector]
) -> list[tuple[Masked, ...]]:
    """The masked findings of many texts at once: text `j` is tested only by the detectors whose bit is set in
    `flags[j]` (bit `i` stands for `dets[i]`; DuckDB has found a candidate of that type in it) and read under the
    header type `hints[j]`. Gives what `find_in_text(texts[j], hint=hints[j], only=<flagged>, prefiltered=True)`
    gives, masked, without a Python call per text and detector: each detector walks all of its texts in one loop."""
    found: list[list[Found]] = [[] for _ in texts]
    by_flags: dict[int, list[int]] = {}
    for j, bits in enumerate(flags):
        if bits:
            by_flags.setdefault(bits, []).append(j)
    for i, detector in enumerate(dets):
        bit = 1 << i
        picked = [j for bits, group in by_flags.items() if bits & bit for j in group]
        if not picked:
            continue
        code = detector.code
        if detector.finder is None:
            finditer, validate = detector.compiled.finditer, detector.validate
            for j in picked:
                for match in finditer(texts[j]):
                    if validate(match.group()):
                        found[j].append((match.start(), match.end(), code))
        else:
            finder = detector.finder
            for j in picked:
                for start, end in finder(texts[j], hints[j] == code):
                    found[j].append((start, end, code))
    order = _registry_order()
    maskers = {d.code: d.masker for d in dets}
    out: list[tuple[Masked, ...]] = []
    for text, hint, spans in zip(texts, hints, found, strict=True):
        if len(spans) > 1:
            spans = _resolve(text, spans, hint, order)
        masked = []
        for start, end, code in spans:
            masker = maskers[code]
            value = text[start:end]
            masked.append((code, start, end, masker(value) if masker is not None else mask(value, code)))
        out.append(tuple(masked))
    return out
