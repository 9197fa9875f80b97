"""Synthetic names that are unique and far apart, so duplicate detection has an exact answer.

Every person name and company name is a codeword of a Reed-Solomon code over GF(61): four
information "digits" (from a seeded permutation of the record's index) are the coefficients of a
cubic polynomial, evaluated at seven points; each value picks one two-letter syllable. Two distinct
polynomials of degree < 4 agree on at most 3 of 7 points, so any two clean names differ in at
least 4 syllables (>= 4 characters). Injected fuzzy duplicates differ from their original by one
character or by case/punctuation only, so a reasonable fuzzy matcher separates the two cases.
"""

from __future__ import annotations

import numpy as np

_P = 61  # prime: the code alphabet is GF(61)
_CONSONANTS = "bdfgklmnprstvz"
_VOWELS = "aeiou"
# 61 distinct consonant-vowel syllables in a fixed order (the first 61 of 70).
SYLLABLES = np.array([c + v for c in _CONSONANTS for v in _VOWELS][:_P], dtype=object)
SPACE = _P**4  # number of distinct codewords (13,845,841)
_POINTS = np.arange(1, 8, dtype=np.int64)  # evaluation points x = 1..7


def _codewords(index: np.ndarray, salt: int) -> np.ndarray:
    """Map indices (unique, < SPACE) to 7 syllable numbers each, as an (n, 7) array."""
    index = np.asarray(index, dtype=np.int64)
    if index.size and (index.min() < 0 or index.max() >= SPACE):
        raise ValueError(f"name index out of range 0..{SPACE - 1}")
    # A seeded affine permutation of the index space: distinct in -> distinct out, and names of
    # consecutive records do not look sequential. 7919 is prime and not a factor of 61**4.
    mixed = (index * 7919 + salt * 104_729 + 12_345) % SPACE
    digits = np.stack([(mixed // _P**k) % _P for k in range(4)], axis=1)  # (n, 4) coefficients
    powers = np.stack([_POINTS**k % _P for k in range(4)], axis=0)  # (4, 7)
    return (digits @ powers) % _P


def _join(syl: np.ndarray, cols: range) -> np.ndarray:
    out = SYLLABLES[syl[:, cols.start]]
    for c in cols[1:]:
        out = out + SYLLABLES[syl[:, c]]
    return out


def person_names(index: np.ndarray, salt: int) -> tuple[np.ndarray, np.ndarray]:
    """First and last names (capitalised, 6 and 8 letters) for unique indices."""
    syl = _codewords(index, salt)
    first = np.array([s.capitalize() for s in _join(syl, range(0, 3))], dtype=object)
    last = np.array([s.capitalize() for s in _join(syl, range(3, 7))], dtype=object)
    return first, last


def company_stems(index: np.ndarray, salt: int) -> np.ndarray:
    """Company name stems such as 'Kalomi Rasuvote' (legal suffix added by the caller)."""
    syl = _codewords(index, salt + 7)
    a = _join(syl, range(0, 3))
    b = _join(syl, range(3, 7))
    return np.array([x.capitalize() + " " + y.capitalize() for x, y in zip(a, b, strict=True)], dtype=object)


def domain_of(stem: str) -> str:
    """Web domain for a company stem: 'Kalomi Rasuvote' -> 'kalomirasuvote.example'."""
    return stem.replace(" ", "").lower() + ".example"
