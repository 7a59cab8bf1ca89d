"""Tokenisation of Chinese, English and mixed feedback and requirement texts.

Owns the `Tokenizer`: Unicode NFKC normalisation and lower-casing, Chinese word segmentation with
jieba plus an IT-service domain dictionary, English word extraction with an optional light
stemmer, and stopword removal. The package data files `data/domain_words.txt`,
`data/stopwords_zh.txt`, `data/stopwords_en.txt` and `data/synonyms.txt` hold the defaults. Synonyms
map aliases onto one canonical token (wechat -> 微信, 手机端 -> 移动端) so that different
wordings, and English and Chinese, of one need share terms.

Each distinct dictionary (default domain words plus the user's words) gets its own
`jieba.Tokenizer` instance, built by copying the frequency table of one base instance, so adding
words for one deployment never changes the segmentation of another (the module-level `jieba.cut`
shares one global dictionary, which is why it is not used). jieba's "Building prefix dict ..."
log lines are silenced while the base dictionary loads.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from importlib import resources
from typing import Any

__all__ = [
    "Tokenizer",
    "default_domain_words",
    "default_stopwords",
    "default_synonyms",
    "light_stem",
    "normalise_text",
    "theme_stopwords",
]

_HAN = re.compile(r"[\u3400-\u9fff]")
_EN_WORD = re.compile(r"[a-z0-9]+[+#]*")
_HAS_LETTER = re.compile(r"[a-z]")
_CACHE_LIMIT = 300_000
# jieba's own suggest_freq only makes a word beat the split of that word alone; in context
# (微信报修 -> 微/信报/修) it still loses. A floor frequency, about that of common words such
# as 工程师 (1,569 in jieba's 60M-token dictionary), keeps domain and user words whole.
_WORD_FREQ_FLOOR = 2000
#: Bump when tokenisation changes in a way `Tokenizer.cache_key` does not see (the code itself).
TOKENS_VERSION = "tokens-2026-12-06"
_BASE_LOCK = threading.Lock()
_BASE: list[Any] = []


def _data_lines(name: str) -> list[str]:
    text = resources.files("scoring.text").joinpath("data", name).read_text(encoding="utf-8")
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [line for line in lines if line]


def normalise_text(text: str) -> str:
    """NFKC then lower case: folds full-width letters, digits and punctuation to ASCII."""
    return unicodedata.normalize("NFKC", text).lower()


_normalise = normalise_text


@lru_cache(maxsize=1)
def default_domain_words() -> tuple[str, ...]:
    """The shipped IT-service domain words (工单, 回访, 驻场工程师, 等保, ...), normalised."""
    return tuple(_normalise(line.split()[0]) for line in _data_lines("domain_words.txt"))


@lru_cache(maxsize=1)
def _domain_frequencies() -> dict[str, int]:
    freqs: dict[str, int] = {}
    for line in _data_lines("domain_words.txt"):
        parts = line.split()
        if len(parts) > 1:
            freqs[_normalise(parts[0])] = int(parts[1])
    return freqs


@lru_cache(maxsize=1)
def default_stopwords() -> frozenset[str]:
    """The shipped Chinese and English stopwords; extend with `default_stopwords() | {...}`."""
    words = _data_lines("stopwords_zh.txt") + _data_lines("stopwords_en.txt")
    return frozenset(_normalise(word) for word in words)


@lru_cache(maxsize=1)
def default_synonyms() -> dict[str, str]:
    """The shipped alias -> canonical token map (a fresh copy may be extended and passed back)."""
    mapping: dict[str, str] = {}
    for line in _data_lines("synonyms.txt"):
        canonical, _, aliases = line.partition(":")
        for alias in aliases.split(","):
            if alias.strip():
                mapping[_normalise(alias).strip()] = _normalise(canonical).strip()
    return mapping


def _is_phrase(alias: str) -> bool:
    return bool(re.fullmatch(r"[a-z0-9]+(?:[\s-][a-z0-9]+)+", alias))


def _phrase_key(phrase: str) -> str:
    words = re.split(r"[\s-]+", phrase.strip())
    return " ".join(light_stem(word) for word in words)


def _phrase_pattern(phrases: Sequence[str]) -> re.Pattern[str] | None:
    """One regex for all phrase aliases: words joined by spaces or hyphens, an optional plural -s."""
    if not phrases:
        return None
    alternatives = sorted(
        (r"[\s-]*".join(re.escape(w) for w in re.split(r"[\s-]+", p)) for p in phrases), key=len, reverse=True
    )
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(alternatives) + r")s?(?![a-z0-9])")


@lru_cache(maxsize=1)
def theme_stopwords() -> frozenset[str]:
    """Stopwords for themes: the defaults, the stopwords-iso lists for zh and en (a maintained
    collection, https://github.com/stopwords-iso), negations and the domain's request phrasings.

    Themes group texts by what they are about, so words that say how something is asked
    (希望, 能否, please) or whether it is denied (不, 没有) carry no theme. The classifier keeps
    negations: they matter for sentiment, so it uses `default_stopwords`.
    """
    import stopwordsiso

    extra = set(stopwordsiso.stopwords("zh")) | set(stopwordsiso.stopwords("en"))
    # A general-purpose list knows nothing of IT service: it drops "ups", "ai" and "bi", which
    # name whole needs here. A concept the dictionary names on purpose stays.
    extra -= set(default_synonyms().values())
    extra |= set(_data_lines("stopwords_theme.txt"))
    return default_stopwords() | frozenset(_normalise(word) for word in extra)


def light_stem(word: str) -> str:
    """Harman's S-stemmer: strip English plural endings only.

    Rules, first match wins: -ies -> -y (not -eies, -aies); -es -> -e (not -aes, -ees, -oes);
    -s -> '' (not -us, -ss). Words of three letters or fewer are left alone.
    Reference: D. Harman, "How effective is suffixing?", JASIS 42(1), 1991, pp. 7-15.
    """
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and not word.endswith(("eies", "aies")):
        return word[:-3] + "y"
    if word.endswith("es") and not word.endswith(("aes", "ees", "oes")):
        return word[:-1]
    if word.endswith("s") and not word.endswith(("us", "ss")):
        return word[:-1]
    return word


@contextmanager
def _quiet_jieba() -> Iterator[None]:
    logger = logging.getLogger("jieba")
    previous = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(previous)


def _jieba() -> Any:
    # jieba 0.42 imports pkg_resources when it is installed, which warns that the API is
    # deprecated (DeprecationWarning, UserWarning in newer setuptools). Ignore exactly that,
    # only around this import, so callers running with warnings as errors are not broken.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
        import jieba
    return jieba


def _base_jieba() -> Any:
    with _BASE_LOCK:
        if not _BASE:
            base = _jieba().Tokenizer()
            with _quiet_jieba():
                base.initialize()
            _BASE.append(base)
        return _BASE[0]


@lru_cache(maxsize=8)
def _jieba_for(words: tuple[str, ...]) -> Any:
    """A jieba instance whose dictionary is the default one plus `words`; never mutated after."""
    base = _base_jieba()
    segmenter = _jieba().Tokenizer()
    segmenter.FREQ = dict(base.FREQ)
    segmenter.total = base.total
    segmenter.initialized = True
    freqs = _domain_frequencies()
    for word in words:
        freq = freqs.get(word) or max(segmenter.suggest_freq(word, False), _WORD_FREQ_FLOOR)
        segmenter.add_word(word, freq)
    return segmenter


#: jieba part-of-speech flags of words that name a thing: nouns (proper, place, organisation,
#: other), verbal nouns (监控, 预计) and abbreviations (存储 is tagged j).
_NOUN_FLAGS = frozenset({"n", "nz", "nt", "ns", "nl", "ng", "vn", "j"})


@lru_cache(maxsize=1)
def _pos_tagger() -> Any:
    _jieba()
    with warnings.catch_warnings(), _quiet_jieba():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        import jieba.posseg

        return jieba.posseg.POSTokenizer(_base_jieba())


@lru_cache(maxsize=65536)
def _is_noun(word: str) -> bool:
    """Whether jieba's dictionary tags `word`, taken whole, as a noun (`_NOUN_FLAGS`)."""
    with _quiet_jieba():
        pieces = list(_pos_tagger().cut(word))
    return len(pieces) == 1 and pieces[0].flag in _NOUN_FLAGS


class Tokenizer:
    """Splits a text into normalised word tokens; Chinese, English and mixed text alike.

    `user_words` extend the default IT-service domain dictionary so that they stay whole;
    `stopwords` replace the default zh+en stopword list (pass `default_stopwords() | extra` to
    extend it). `stem_english` applies `light_stem` to English words. Instances are immutable
    (use `with_words` for a larger dictionary), cheap to pickle (only the settings are stored) and
    cache the tokens of texts already seen.
    """

    def __init__(
        self,
        user_words: Iterable[str] = (),
        stopwords: Iterable[str] | None = None,
        *,
        synonyms: Mapping[str, str] | None = None,
        domain_words: bool = True,
        stem_english: bool = True,
    ) -> None:
        extra = [_normalise(word).strip() for word in user_words]
        base = default_domain_words() if domain_words else ()
        self._user_words = tuple(dict.fromkeys(word for word in extra if word))
        self._domain_words = domain_words
        chosen = default_stopwords() if stopwords is None else (_normalise(w).strip() for w in stopwords)
        self._stopwords = frozenset(chosen)
        chosen_synonyms = default_synonyms() if synonyms is None else synonyms
        normalised = {_normalise(a).strip(): _normalise(c).strip() for a, c in chosen_synonyms.items()}
        # Aliases of several English words ("service-desk", "on-site") are phrases: they are
        # replaced in the text before segmentation, as no single token could match them.
        self._phrases = _phrase_pattern([a for a in normalised if _is_phrase(a)])
        self._phrase_map = {_phrase_key(a): c for a, c in normalised.items() if _is_phrase(a)}
        self._all_synonyms = normalised
        self._synonyms = {a: c for a, c in normalised.items() if not _is_phrase(a)}
        # Chinese synonym words join the dictionary, or jieba could cut 手机端 into 手机/端.
        synonym_words = {w for pair in self._synonyms.items() for w in pair if _HAN.search(w)}
        self._synonym_words = tuple(sorted(synonym_words))
        self._words = tuple(sorted(set(base) | set(self._user_words) | synonym_words))
        self._stem_english = stem_english
        self._cache: dict[str, tuple[str, ...]] = {}
        self._pieces: dict[str, tuple[str, ...]] = {}
        self._segmenter: Any = None
        self._theme_variant: Tokenizer | None = None
        self._base: Tokenizer | None = None
        self._english: dict[str, str] | None = None
        self._concepts: frozenset[str] | None = None
        self._key: str | None = None

    @property
    def user_words(self) -> tuple[str, ...]:
        """The words added on top of the default domain dictionary, normalised."""
        return self._user_words

    @property
    def stopwords(self) -> frozenset[str]:
        return self._stopwords

    @property
    def synonyms(self) -> dict[str, str]:
        return dict(self._all_synonyms)

    def with_words(self, words: Iterable[str]) -> Tokenizer:
        """A new tokenizer whose dictionary also holds `words`; this one is left unchanged."""
        return Tokenizer(
            (*self._user_words, *words),
            self._stopwords,
            synonyms=self._all_synonyms,
            domain_words=self._domain_words,
            stem_english=self._stem_english,
        )

    def for_themes(self) -> Tokenizer:
        """This tokenizer with the theme stopwords added (`theme_stopwords`); cached."""
        if self._theme_variant is None:
            variant = Tokenizer(
                self._user_words,
                self._stopwords | theme_stopwords(),
                synonyms=self._all_synonyms,
                domain_words=self._domain_words,
                stem_english=self._stem_english,
            )
            # Its tokens are this tokenizer's tokens less the theme stopwords: segmenting each
            # text once serves both the themes and the classifier of a run (jieba is the cost).
            variant._base = self
            variant._theme_variant = variant
            self._theme_variant = variant
        return self._theme_variant

    def without_synonyms(self) -> Tokenizer:
        """This tokenizer keeping every word as written (no synonym mapping)."""
        return Tokenizer(
            (*self._user_words, *self._synonym_words),
            self._stopwords,
            synonyms={},
            domain_words=self._domain_words,
            stem_english=self._stem_english,
        )

    def names_a_thing(self, term: str) -> bool:
        """Whether a token names a thing a need can be about: a concept of the dictionary (a
        synonym's canonical token, a domain or user word) or a Chinese word jieba tags as a noun.
        Other English words never do (they cannot be told apart from verbs without a tagger)."""
        if self._concepts is None:
            self._concepts = frozenset(self._all_synonyms.values()) | frozenset(self._words) - frozenset(
                self._synonym_words
            )
        if term in self._concepts:
            return True
        return bool(_HAN.search(term)) and _is_noun(term)

    def english_of(self, term: str) -> str:
        """An English word for a canonical term (its first English alias), else the term itself."""
        if self._english is None:
            english: dict[str, str] = {}
            for alias, canonical in self._all_synonyms.items():
                if not _HAN.search(alias):
                    english.setdefault(canonical, alias.replace("-", " "))
            self._english = english
        return self._english.get(term, term)

    def cache_key(self) -> str:
        """A digest of everything this tokenizer's tokens depend on: the dictionary (shipped domain
        words with their frequencies, user and synonym words), stopwords, synonyms, stemming, the
        frequency floor and jieba's version (its own dictionary ships with it). Tokens stored under
        one key are valid for every tokenizer with the same key (`remember`, `segmented`)."""
        if self._key is None:
            import hashlib
            from importlib.metadata import version

            h = hashlib.sha256(TOKENS_VERSION.encode())
            for part in (
                version("jieba"),
                _WORD_FREQ_FLOOR,
                self._words,
                sorted(_domain_frequencies().items()),
                sorted(self._stopwords),
                sorted(self._all_synonyms.items()),
                self._stem_english,
                self._base.cache_key() if self._base is not None else "",
            ):
                h.update(b"\x1e" + repr(part).encode("utf-8"))
            self._key = h.hexdigest()
        return self._key

    def remember(self, tokens: Mapping[str, Sequence[str]]) -> None:
        """Take the tokens of texts segmented earlier by a tokenizer with the same `cache_key`
        (stored by the caller between runs), so they are not segmented again."""
        room = _CACHE_LIMIT - len(self._cache)
        for text, words in tokens.items():
            if room <= 0:
                break
            if text not in self._cache:
                self._cache[text] = tuple(words)
                room -= 1

    def segmented(self, texts: Iterable[str]) -> dict[str, tuple[str, ...]]:
        """The tokens this tokenizer holds for `texts` (those it has tokenised or remembered)."""
        cache = self._cache
        return {text: cache[text] for text in texts if text in cache}

    def tokenize(self, text: str) -> list[str]:
        """The tokens of one text, in order, stopwords and punctuation removed."""
        cached = self._cache.get(text)
        if cached is None:
            cached = self._tokenize(text)
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
                self._pieces.clear()
            self._cache[text] = cached
        return list(cached)

    def tokenize_many(self, texts: Sequence[str]) -> list[list[str]]:
        """`tokenize` for each text; repeated texts are segmented once."""
        return [self.tokenize(text) for text in texts]

    def _tokenize(self, text: str) -> tuple[str, ...]:
        if self._base is not None:
            stop = self._stopwords
            return tuple(word for word in self._base.tokenize(text) if word not in stop)
        if self._segmenter is None:
            self._segmenter = _jieba_for(self._words)
        tokens: list[str] = []
        pieces = self._pieces
        normalised = _normalise(text)
        if self._phrases is not None and _HAS_LETTER.search(normalised):
            normalised = self._phrases.sub(self._replace_phrase, normalised)
        for piece in self._segmenter.cut(normalised):
            words = pieces.get(piece)
            if words is None:
                words = pieces[piece] = self._words_of_piece(piece)
            tokens.extend(words)
        return tuple(tokens)

    def _replace_phrase(self, match: re.Match[str]) -> str:
        return f" {self._phrase_map.get(_phrase_key(match.group(0)), match.group(0))} "

    def _words_of_piece(self, piece: str) -> tuple[str, ...]:
        """The tokens one jieba piece becomes; memoised, as pieces repeat far more than texts."""
        if _HAN.search(piece):
            word = piece.strip()
            canonical = self._synonyms.get(word)
            if canonical is not None:  # an alias named on purpose outranks the stopword list
                return (canonical,)
            return (word,) if word and word not in self._stopwords else ()
        words = []
        for word in _EN_WORD.findall(piece):
            if len(word) < 2 or not _HAS_LETTER.search(word):
                continue
            stemmed = light_stem(word) if self._stem_english else word
            canonical = self._synonyms.get(stemmed)
            if canonical is None and (word in self._stopwords or stemmed in self._stopwords):
                continue
            words.append(canonical or stemmed)
        return tuple(words)

    def __getstate__(self) -> dict[str, Any]:
        return {
            "user_words": self._user_words,
            "stopwords": sorted(self._stopwords),
            "synonyms": self._all_synonyms,
            "domain_words": self._domain_words,
            "stem_english": self._stem_english,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(  # type: ignore[misc]
            state["user_words"],
            state["stopwords"],
            synonyms=state["synonyms"],
            domain_words=state["domain_words"],
            stem_english=state["stem_english"],
        )

    def __repr__(self) -> str:
        return f"Tokenizer(user_words={list(self._user_words)!r}, stopwords=<{len(self._stopwords)} words>)"
