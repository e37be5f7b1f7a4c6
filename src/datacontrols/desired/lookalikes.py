"""Names that look alike across scripts: `Support Bot` with a Cyrillic `о` reads the same as the Latin one.

A project is named by its text, and projects cannot be deleted: a look-alike name plans a second project
that nobody sees is different. Case, width and compatibility forms are already one name (NFKC and case
folding, in the loader: a duplicate); letters of another script are not the same letter, so they are only
suspicious, and are warned about, never refused (`Ρhoenix` may be a typo; `Ωmega` is a real name):

- `mixed_script`: a name that mixes Latin letters with a Cyrillic or Greek letter that has a Latin twin;
- `skeleton`: the name with those letters replaced by their twins, so two names with the same skeleton (but
  different text) look the same to a reader.

The table holds the Cyrillic and Greek letters that look like one Latin letter in either case (after
Unicode's confusables list, UTS #39: `Н` and `H`, `р` and `p`), lower case, as names are case-folded first.
"""

from __future__ import annotations

import unicodedata
from typing import Final

__all__ = ["LATIN_TWINS", "mixed_script", "skeleton"]

LATIN_TWINS: Final[dict[str, str]] = {
    # Cyrillic
    "а": "a",
    "в": "b",
    "е": "e",
    "һ": "h",
    "і": "i",
    "ј": "j",
    "к": "k",
    "м": "m",
    "н": "h",
    "о": "o",
    "р": "p",
    "с": "c",
    "т": "t",
    "у": "y",
    "х": "x",
    "ѕ": "s",
    "ԁ": "d",
    "ԛ": "q",
    "ԝ": "w",
    "ӏ": "l",
    "ё": "e",
    "ї": "i",
    # Greek
    "α": "a",
    "β": "b",
    "ε": "e",
    "η": "n",
    "ι": "i",
    "κ": "k",
    "ν": "v",
    "ο": "o",
    "ρ": "p",
    "τ": "t",
    "υ": "u",
    "χ": "x",
    "ζ": "z",
    "μ": "u",
}


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def skeleton(name: str) -> str:
    """What the name looks like: folded as the loader compares names, each look-alike letter as its twin."""
    return "".join(LATIN_TWINS.get(char, char) for char in _fold(name))


def _script(char: str) -> str:
    return unicodedata.name(char, "").split(" ", 1)[0]


def mixed_script(name: str) -> str | None:
    """Why `name` looks like a Latin name it is not, or None: the first Cyrillic or Greek letter with a Latin
    twin in a name that also holds Latin letters, with its position (1-based) and code point."""
    if not any(_script(char) == "LATIN" for char in name if char.isalpha()):
        return None
    for index, char in enumerate(name, start=1):
        twin = LATIN_TWINS.get(_fold(char))
        script = _script(char)
        if twin is not None and script in ("CYRILLIC", "GREEK"):
            what = unicodedata.name(char, f"U+{ord(char):04X}")
            return (
                f"mixes Latin letters with {script.title()}: {char!r} at character {index} (U+{ord(char):04X} "
                f"{what}) looks like the Latin {twin!r}; retype it if you meant a Latin name"
            )
    return None
