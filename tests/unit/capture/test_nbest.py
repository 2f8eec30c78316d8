"""One vote per hearing: reformatted copies of a hypothesis add nothing unless they read apart."""

from __future__ import annotations

from voicecore.capture import CaptureState, Vote, calibrated, hypotheses, rank
from voicecore.capture._machine import advance
from voicecore.capture._params import UtteranceParams
from voicecore.primitives.amount import CaptureAmount, CaptureAmountParams
from voicecore.primitives.email import CaptureEmail, CaptureEmailParams


def _params(top: str, *alternatives: tuple[str, float]) -> UtteranceParams:
    return UtteranceParams.model_validate(
        {
            "transcription": top,
            "asr_confidence": 0.9,
            "alternatives": [{"transcription": t, "confidence": c} for t, c in alternatives],
        }
    )


def test_a_copy_keeps_its_place_with_the_hearing_it_rewrites() -> None:
    heard = hypotheses(_params("Jenny at Yahoo.com.", ("jenny at yahoo.com", 0.0), ("x", 0.0)))
    assert [(h.rank, h.hearing) for h in heard] == [(0, 0), (1, 0), (2, 2)]
    # The copy does not halve the prior of the alternative after it.
    assert [h.weight for h in heard] == [0.9, 0.45, 0.45]


def test_an_exact_repeat_is_dropped() -> None:
    assert len(hypotheses(_params("six", ("six", 0.5)))) == 1


def test_rank_counts_one_vote_per_key_and_hearing() -> None:
    votes = [Vote("a", 0.5, 0), Vote("a", 0.5, 0), Vote("b", 0.4, 0), Vote("a", 0.5)]
    ranked = rank(votes)
    assert [(r.key, r.first) for r in ranked] == [("a", 0), ("b", 2)]
    # "a" from hearings 0 and 3 (noisy-OR 0.75), share 1.0 / 1.4.
    assert ranked[0].confidence == round(0.75 * 1.0 / 1.4, 4)


def test_a_hyphen_that_changes_the_email_is_another_reading() -> None:
    """ "mary ann@gmail.com" reads ann@..., "mary-ann@gmail.com" reads mary-ann@...: two
    readings, not one hearing with 0.7125 and no candidates."""
    params = CaptureEmailParams.model_validate(
        {
            "transcription": "mary ann@gmail.com",
            "asr_confidence": 0.75,
            "alternatives": [{"transcription": "mary-ann@gmail.com", "confidence": 0.75}],
        }
    )
    turn = advance(CaptureEmail(), params, CaptureState())
    assert turn.value is not None
    assert turn.value.value == "ann@gmail.com"
    assert [c.value for c in turn.value.candidates] == ["mary-ann@gmail.com"]
    assert turn.confidence < 0.7125


def test_a_currency_sign_that_changes_the_amount_is_another_reading() -> None:
    """ "€20" is a mismatch for USD, "$20" a valid amount: the alternative is not dropped."""
    params = CaptureAmountParams.model_validate(
        {
            "transcription": "€20",
            "asr_confidence": 0.9,
            "currency": "USD",
            "alternatives": [{"transcription": "$20", "confidence": 0.8}],
        }
    )
    turn = advance(CaptureAmount(), params, CaptureState())
    assert turn.value is not None
    assert turn.value.value == "20.00"
    assert turn.confidence == calibrated(0.8, CaptureAmount.name)


def test_a_copy_that_reads_the_same_adds_nothing() -> None:
    alone = advance(
        CaptureEmail(),
        CaptureEmailParams.model_validate(
            {"transcription": "mary-ann@gmail.com", "asr_confidence": 0.8}
        ),
        CaptureState(),
    )
    copied = advance(
        CaptureEmail(),
        CaptureEmailParams.model_validate(
            {
                "transcription": "mary-ann@gmail.com",
                "asr_confidence": 0.8,
                "alternatives": [{"transcription": "Mary-Ann@Gmail.com.", "confidence": 0.7}],
            }
        ),
        CaptureState(),
    )
    assert copied.value == alone.value
    assert copied.confidence == alone.confidence


def test_hesitation_sounds_do_not_make_another_hearing() -> None:
    """ "uh, 6 1 7" and "6, 1, 7" are one hearing: the hesitation is no other word heard."""
    heard = hypotheses(_params("uh, 6 1 7", ("6, 1, 7", 0.5), ("um 6 1 8", 0.4)))
    assert [h.hearing for h in heard] == [0, 0, 2]


def test_a_ranked_key_counts_its_hearings_and_keeps_their_highest_weight() -> None:
    votes = [Vote("a", 0.2, 0, 0.4), Vote("a", 0.3, 0, 0.6), Vote("b", 0.1, 2, 0.1)]
    votes += [Vote("a", 0.25, 3, 0.5), Vote("b", 0.1)]
    a, b = rank(votes)
    assert (a.key, a.hearings, a.weight) == ("a", 2, 0.5)  # the copy in hearing 0 is no vote
    assert (b.key, b.hearings, b.weight) == ("b", 2, 0.1)  # a vote without a weight adds none
    (alone,) = rank([Vote("c", 0.5)])
    assert (alone.hearings, alone.weight) == (1, None)
