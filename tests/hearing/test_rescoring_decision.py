"""Which reading wins a command rescoring: figures measured with Whisper base on espeak-ng speech."""

from __future__ import annotations

from pushkin.daemon.hearing.rescoring import RescoringOptions, ScoredReading, decide


def test_a_proposal_must_clearly_beat_the_transcript():
    # espeak's "A good night." was heard "Don't hide."; decoded after a prompt of commands it read "Undo that.",
    # 1.8 nats more likely (and 2.1 in another process). A dictated "good night" must stay words.
    readings = [ScoredReading("Don't hide.", -3.44, 4), ScoredReading("Undo this.", -10.13, 4),
                ScoredReading("Undo that.", -1.61, 4)]
    assert decide("Don't hide.", readings, RescoringOptions(), proposed="Undo that.").chosen == ""
    assert decide("Don't hide.", [readings[0], ScoredReading("Undo that.", -0.54, 4)], RescoringOptions(),
                  proposed="Undo that.").chosen == ""  # a lead of 2.9 nats: still short of the 3.0 required
    # espeak's "Undo that." heard "A new net": the proposal leads by 5.1 nats.
    heard = [ScoredReading("A new net", -6.46, 3), ScoredReading("New line.", -12.52, 3), ScoredReading("Undo that.", -1.39, 4)]
    assert decide("A new net", heard, RescoringOptions(), proposed="Undo that.").chosen == "Undo that."


def test_a_phrase_close_in_spelling_wins_within_the_margin_when_its_tokens_are_believed():
    transcript = ScoredReading("Belief the last sentence.", -4.0, 6)
    close = ScoredReading("Delete the last sentence.", -6.5, 5)
    assert decide(transcript.text, [transcript, close], RescoringOptions()).chosen == close.text
    assert decide(transcript.text, [transcript, ScoredReading(close.text, -8.0, 5)], RescoringOptions()).chosen == ""
    # Within the margin, but a mean of -2.4 nats per token: not believed.
    doubtful = ScoredReading("Undo.", -4.8, 2)
    assert decide("And you.", [ScoredReading("And you.", -2.0, 3), doubtful], RescoringOptions()).chosen == ""
