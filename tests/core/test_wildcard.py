"""
Wildcard masks: C{*} any run, C{?} any one character, folded as names are,
matched without going back.
"""

from __future__ import annotations

import re
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatserver.core.wildcard import MAX_MASK_LENGTH, MaskTooLong, compile_mask
from chatwire.names import name_key


def reference(mask: str, text: str) -> bool:
    """
    The obvious recursive matcher, memoised: the specification.
    """

    @cache
    def match(m: int, t: int) -> bool:
        if m == len(mask):
            return t == len(text)
        if mask[m] == "*":
            return match(m + 1, t) or (t < len(text) and match(m, t + 1))
        if t < len(text) and (mask[m] == "?" or mask[m] == text[t]):
            return match(m + 1, t + 1)
        return False

    return match(0, 0)


def as_regex(mask: str, text: str) -> bool:
    """
    What the IRC door did before: the mask as a regular expression.
    """
    pattern = "".join(
        ".*" if c == "*" else "." if c == "?" else re.escape(c) for c in mask
    )
    return re.fullmatch(pattern, text, re.DOTALL) is not None


masks = st.text(alphabet="ab*?", max_size=10)
texts = st.text(alphabet="ab", max_size=10)


@settings(max_examples=2000)
@given(masks, texts)
def test_a_mask_matches_as_the_recursive_definition_says(mask, text):
    assert compile_mask(mask).matches(text) == reference(mask, text)


@settings(max_examples=1000)
@given(masks, texts)
def test_a_mask_matches_as_its_regular_expression_does(mask, text):
    assert compile_mask(mask).matches(text) == as_regex(mask, text)


@given(st.text(alphabet="aBç?*Ä", max_size=8), st.text(alphabet="AbÇä", max_size=8))
def test_masks_and_texts_are_compared_folded_as_names(mask, text):
    folded = "".join(c if c in "*?" else name_key(c) for c in mask)
    assert compile_mask(mask).matches(text) == reference(folded, name_key(text))


def test_any_text_is_matched_without_raising():
    compile_mask("*\ud800?*").matches("x\ud800yz")


def test_star_is_any_run_and_question_mark_one_character():
    assert compile_mask("#d*").matches("#dev")
    assert compile_mask("#d*").matches("#d")
    assert compile_mask("#d?v").matches("#dev")
    assert not compile_mask("#d?v").matches("#deev")
    assert compile_mask("*").matches("")
    assert not compile_mask("").matches("x")


def test_case_and_compatibility_forms_are_folded():
    assert compile_mask("ALICE*").matches("alice!~alice@irc")
    assert compile_mask("*\uff22\uff2f\uff22").matches("bob")


def test_a_star_or_question_mark_that_is_text_is_matched_as_itself():
    # A full-width star folds to '*', but as text, not as a wildcard.
    assert compile_mask("a\uff0ab").matches("a*b")
    assert not compile_mask("a\uff0ab").matches("axb")


def test_a_mask_longer_than_the_bound_is_refused():
    compile_mask("*" * MAX_MASK_LENGTH)
    with pytest.raises(MaskTooLong) as refused:
        compile_mask("*" * (MAX_MASK_LENGTH + 1))
    assert str(MAX_MASK_LENGTH) in refused.value.reason


@pytest.mark.parametrize(
    ("mask", "text"),
    [
        ("*a" * 12 + "*b", "a" * 50),
        ("*a" * 12 + "*b", "a" * 480),
        ("*a" * 12 + "*b*c", "a" * 479 + "c"),
        ("a*" * 12 + "b*a", "a" * 480),
        ("*a?" * 12 + "*b", "a" * 480),
        ("*" + "a" * 200 + "b*", "a" * 480),
        ("*" + "a?" * 100 + "b", "a" * 480),
    ],
)
def test_a_match_never_goes_back(mask, text):
    """
    The masks that took a regular expression exponential time (each C{*a}
    multiplied it by 5 to 6) take one search per segment, each bounded by
    the text's length times the segment's.
    """
    compiled = compile_mask(mask)
    assert not compiled.matches(text)
    assert compiled.searches(text) <= mask.count("*") + 1


@given(masks, texts)
def test_a_match_takes_at_most_one_search_per_segment(mask, text):
    compiled = compile_mask(mask)
    assert compiled.searches(text) <= len(re.split(r"\*+", mask))
