"""Hypothesis strategies for hostile input: every Unicode plane, control characters, odd numbers and types."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction

from hypothesis import strategies as st

# Characters that break naive code: controls, separators, bidi overrides, BOM, noncharacters,
# lone surrogates, and one from each supplementary plane (emoji, CJK ext. B, tags, private use).
AWKWARD = (
    "\x00\x01\x07\x08\x0b\x0c\x1b\x1d\x7f\x85\r\n\t\u2028\u2029\u200b\u200d\u202e\u2066\ufeff"
    "\ufdd0\ufffd\ufffe\uffff\ud800\udbff\udc00\udfff"
    + "".join(chr(c) for c in (0x1F600, 0x1FFFE, 0x20000, 0x2FFFF, 0x3134A, 0xE0001, 0xE007F, 0xF0000, 0x10FFFF))
)

any_char = st.one_of(
    st.characters(),  # hypothesis' own mix, surrogates included
    st.integers(0, 0x10FFFF).map(chr),  # uniformly over all seventeen planes
    st.sampled_from(AWKWARD),
)

texts = st.one_of(
    st.text(any_char, max_size=24),
    st.sampled_from(["", " ", "\t\n", "null", "None", "NaN", "-0", "1e309", "0x10", "'; DROP TABLE events; --"]),
    st.integers(200, 20_000).map(lambda n: "x" * n),  # over every limit
    st.tuples(st.text(any_char, max_size=3), st.integers(1, 5000)).map(lambda t: t[0] * t[1]),
)

numbers = st.one_of(
    st.integers(),
    st.integers(-(2**80), 2**80),
    st.floats(),  # includes nan, inf, -inf, -0.0, subnormals
    st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 1e308, 5e-324, 2**53 + 1]),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.fractions(),
    st.complex_numbers(),
)

ZONES = [UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12)), timezone(timedelta(hours=5, minutes=45))]

datetimes = st.one_of(
    st.datetimes(),  # naive
    st.datetimes(timezones=st.sampled_from(ZONES)),  # aware, from year 1 to 9999
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    numbers,
    texts,
    st.binary(max_size=16),
    st.dates(),
    datetimes,
    st.just(object()),
    st.just(Decimal("1.5")),
    st.just(Fraction(1, 3)),
)

anything = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(texts, inner, max_size=4),
        st.frozensets(st.one_of(st.integers(), st.text(max_size=3)), max_size=3),
    ),
    max_leaves=8,
)


def near(moment: datetime) -> st.SearchStrategy[datetime]:
    """Aware times within a day either side of `moment`, in several zones (mostly plausible)."""
    return st.builds(
        lambda minutes, zone: (moment + timedelta(minutes=minutes)).astimezone(zone),
        st.integers(-1440, 1440),
        st.sampled_from(ZONES),
    )


def maybe(valid: object, bad: st.SearchStrategy[object] = anything) -> st.SearchStrategy[object]:
    """`valid` or anything at all; shrinks towards `valid`, so a failure shows the one bad argument."""
    return st.one_of(st.just(valid), bad)


def rarely_bad(valid: object, bad: st.SearchStrategy[object] = anything) -> st.SearchStrategy[object]:
    """`valid` seven times in eight (so deeper checks get reached), else anything at all."""
    return st.integers(0, 7).flatmap(lambda pick: bad if pick == 7 else st.just(valid))
