"""Chinese text analysis for search: one function turns a title, a description or a query into terms, so the
index and the query always agree.

- Folding: NFKC (full-width → half-width), lower case, traditional → simplified (OpenCC).
- Segmentation: jieba in search mode (words and the shorter words inside them, for recall), with the
  catalog's own vocabulary (department and domain names, field titles, synonyms) added to its dictionary.
- Terms are runs of letters or digits only (`pm2.5` → `pm2`, `5`), so both backends tokenise them the same.
- Pinyin: every Chinese word also yields its full pinyin (`gongjiao`) and initials (`gj`).
- Character bigrams of titles back up segmentation when a query is cut differently from the title.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from functools import lru_cache

logger = logging.getLogger("citydata.search")

_STOP_TEXT = """
的 了 和 与 及 或 等 在 是 我 我们 你 想 要 查 查询 查找 找 找到 一下 哪些 哪里 有没有 有 多少
怎么 如何 吗 呢 吧 请 看 看看 关于 相关 所有 全部 一个 个 这 那 之 其 对 为 以 把 被 从 到
a an the of and or for in on to
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())  # noise in queries such as 我想查一下……的数据
_STOP_CHARS = frozenset(w for w in STOP_WORDS if len(w) == 1 and not w.isascii())  # 我想查 is noise too
_TERM = re.compile(r"[0-9a-z]+|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_CJK = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+$")
_lock = threading.Lock()
_added_words: set[str] = set()


@lru_cache(maxsize=1)
def _converter():
    import opencc

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def fold(text: str) -> str:
    """Full-width to half-width, lower case, traditional to simplified."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    return _converter().convert(text) if text else ""


def add_words(words) -> None:
    """Teach the segmenter the catalog's own terms (department names, field titles, synonyms)."""
    jieba = _jieba()
    with _lock:
        for word in words:
            word = fold(word).strip()
            if 2 <= len(word) <= 20 and _CJK.match(word) and word not in _added_words:
                jieba.add_word(word, freq=2000)
                _added_words.add(word)


def _pieces(text: str) -> list[str]:
    """Runs of Chinese characters and runs of letters/digits, in order."""
    return _TERM.findall(fold(text))


def words(text: str, *, search_mode: bool = True) -> list[str]:
    """The terms of `text`, stop words removed. Search mode adds the shorter words inside long ones."""
    jieba = _jieba()
    out: list[str] = []
    for piece in _pieces(text):
        if not _CJK.match(piece):
            out.append(piece)
            continue
        cut = jieba.lcut_for_search(piece) if search_mode else jieba.lcut(piece)
        out += [w for w in cut if _TERM.fullmatch(w)]
    return [w for w in out if w not in STOP_WORDS and not all(c in _STOP_CHARS for c in w)]


def query_words(text: str) -> list[str]:
    """A query's words as the user meant them (precise mode): each one must match, by itself, a synonym,
    a word inside it or its pinyin."""
    return words(text, search_mode=False)


def pinyin_terms(terms: list[str]) -> list[str]:
    """Full pinyin and initials of each Chinese term: 公交 → gongjiao, gj."""
    out: list[str] = []
    for term in terms:
        if _CJK.match(term):
            out += _pinyin_of(term)
    return out


def pinyin_runs(words: list[str], longest: int = 4) -> list[str]:
    """Pinyin and initials of runs of 2 to `longest` consecutive words, so gjss and gongjiaoshishi find
    地面公交实时位置 as typed without spaces."""
    out: list[str] = []
    readings = [_pinyin_of(w) if _CJK.match(w) else () for w in words]
    for start in range(len(words)):
        for end in range(start + 2, min(len(words), start + longest) + 1):
            run = readings[start:end]
            if all(run):
                out.append("".join(r[0] for r in run))
                out.append("".join(r[-1] if len(r) > 1 else r[0][0] for r in run))
    return out


@lru_cache(maxsize=100_000)
def _pinyin_of(term: str) -> tuple[str, ...]:
    """A word's pinyin and initials (catalogs repeat their words, so this is cached)."""
    from pypinyin import Style, lazy_pinyin

    syllables = lazy_pinyin(term, errors="ignore")
    if not syllables:
        return ()
    if len(syllables) == 1:
        return ("".join(syllables),)
    initials = "".join(s[0] for s in lazy_pinyin(term, style=Style.FIRST_LETTER, errors="ignore"))
    return ("".join(syllables), initials)


def bigrams(text: str) -> list[str]:
    """Overlapping character pairs of each Chinese run (single characters stay as they are)."""
    out: list[str] = []
    for piece in _pieces(text):
        if _CJK.match(piece):
            out += [piece[i : i + 2] for i in range(max(1, len(piece) - 1))]
        else:
            out.append(piece)
    return out


def is_pinyin_like(term: str) -> bool:
    return term.isascii() and term.isalpha()


def joined(terms: list[str]) -> str:
    return " ".join(terms)
