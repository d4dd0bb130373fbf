"""What a scene's narration states that none of its claims checks (sandbox-safe: text only).

sympy checks a scene's claims, not what its voice says. A narration sentence that states something
mathematical (a relation word such as "equals", "is", "gives" with numbers, constants or functions
in it) is compared with the scene's claims: every number, constant (pi, infinity) and function
(sine, cosine, square root, logarithm) it names must appear in some claim of the scene, the values
of a claim's integer powers counting too (``3**2`` holds 9). What is left over is flagged in the
report; nothing fails. Questions are not statements.

It is a screen, not a proof: a sentence that names only what the claims name may still say
something else, and sentences that instruct ("Shade the region...", "Let f of x equal...") are
taken as instructions. "one" is not counted (it is as often a pronoun as a number); "twenty-five"
and "1,000" are read as numbers.
"""

from __future__ import annotations

import re

from .types import sentences

_NUMBER_WORDS = {
    "zero": "0", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13",
    "fourteen": "14", "fifteen": "15", "sixteen": "16", "seventeen": "17", "eighteen": "18",
    "nineteen": "19", "twenty": "20", "thirty": "30", "forty": "40", "fifty": "50", "sixty": "60",
    "seventy": "70", "eighty": "80", "ninety": "90", "hundred": "100", "thousand": "1000",
    "half": "2", "squared": "2", "cubed": "3",
}
# spoken name -> how claims write it (sympy or LaTeX, lower-cased)
_NAMED = {
    "pi": re.compile(r"\bpi\b|π"),
    "infinity": re.compile(r"\boo\b|\\infty|∞"),
    "sine": re.compile(r"\bsin\b"),
    "cosine": re.compile(r"\bcos\b"),
    "square root": re.compile(r"\bsqrt\b"),
    "logarithm": re.compile(r"\blog\b|\bln\b"),
}
_SPOKEN_NAMES = {"pi": "pi", "infinity": "infinity", "sine": "sine", "cosine": "cosine",
                 "square root": "square root", "logarithm": "logarithm", "log": "logarithm"}
_RELATION = re.compile(r"=|<|>|\b(equals?|is|are|gives|becomes|approaches|satisfy|satisfies|"
                       r"greater than|less than|at least|at most|add up to|adds up to|sums? to)\b")
# sentences that instruct or ask rather than state
_INSTRUCTION = re.compile(r"^(let|meet|define|consider|suppose|take|approximate|shade|introduce|recap|"
                          r"differentiate|integrate|evaluate|draw|plot|watch|look|compare|follow|show|"
                          r"see|what|how|why|does|do|can)\b")
# a number not inside a name (log10, x2): LaTeX's _0 and ^2 are numbers
_DIGITS = re.compile(r"(?<![A-Za-z0-9.])\d+(?:\.\d+)?")
_POWER = re.compile(r"(?<![A-Za-z0-9.])(\d+)\s*(?:\*\*|\^)\s*\{?\s*(\d+)\b")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
         "ninety": 90}
_UNITS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
          "nine": 9}
_COMPOUND = re.compile(rf"\b({'|'.join(_TENS)})[- ]({'|'.join(_UNITS)})\b")


def _number(text: str) -> str:
    """``text`` as the claims would write it: ``2.0`` -> ``2``, ``2.50`` -> ``2.5``."""
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def spoken_atoms(sentence: str) -> list[str]:
    """The numbers, constants and functions a sentence names, in order, each once."""
    text = _THOUSANDS.sub("", sentence.lower())  # 1,000 -> 1000
    text = _COMPOUND.sub(lambda m: str(_TENS[m.group(1)] + _UNITS[m.group(2)]), text)  # twenty-five
    found = [_number(d) for d in _DIGITS.findall(text)]
    found += [_NUMBER_WORDS[w] for w in re.findall(r"[a-z]+", text) if w in _NUMBER_WORDS]
    found += [_SPOKEN_NAMES[m] for m in re.findall(r"\b(pi|infinity|sine|cosine|square root|"
                                                    r"logarithm|log)\b", text)]
    return list(dict.fromkeys(found))


def claim_atoms(claims: list[str]) -> set[str]:
    """What the claims name: their numbers, the values of their integer powers, and the constants
    and functions of :data:`_NAMED` (under their spoken names)."""
    found: set[str] = set()
    for claim in claims:
        text = claim.lower()
        found.update(_number(d) for d in _DIGITS.findall(text))
        for base, power in _POWER.findall(text):
            if len(power) <= 2 and len(base) <= 6:
                found.add(str(int(base) ** int(power)))
        found.update(name for name, pattern in _NAMED.items() if pattern.search(text))
    return found


def unchecked(narration: str, claims: list[str]) -> list[tuple[str, list[str]]]:
    """The sentences of ``narration`` that state something naming what none of ``claims`` names:
    (sentence, what it names that they do not)."""
    have = claim_atoms(claims)
    flagged = []
    for sentence in sentences(narration):
        lowered = sentence.lower()
        if _INSTRUCTION.match(lowered) or lowered.endswith("?") or not _RELATION.search(lowered):
            continue
        missing = [a for a in spoken_atoms(sentence) if a not in have]
        if missing:
            flagged.append((sentence, missing))
    return flagged
