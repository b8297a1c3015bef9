"""Caller speech over the reply: hold the reply, stop it, or let it carry on.

While a reply is active and barge-in is allowed:

1. Onset. The first chunk with caller speech (in_speech, or a SPEECH_START
   boundary) while the reply is not paused -> PAUSE_SPEAKING, and the state
   remembers overlap_started_ms. The gateway holds reply audio at once, so the
   caller never waits for the recogniser to hear the assistant go quiet.
2. While the overlap lasts:
   - words in the new utterance that are not a backchannel -> STOP_SPEAKING, unless they
     are too weak (one word, or two without content, none a cue to stop or be heard nor a
     question: "Literally." and "You do." are what Moonshine made of an "mm-hm"): those
     wait for more words;
   - speech longer than BARGE_IN_SPEECH_MS (BACKCHANNEL_MAX_SPEECH_MS while there
     are no words yet or the words so far are a backchannel, as in a slow "yeah,
     yeah, okay") -> STOP_SPEAKING;
   - otherwise KEEP_LISTENING: the reply stays held.
3. When the overlap speech ends short:
   - a backchannel transcript ("Mm-hmm.", "Yeah.") -> IGNORE_BACKCHANNEL, the
     gateway resumes the reply; the utterance counts as answered;
   - an empty final transcript (a cough, a door), or such weak words -> RESUME_SPEAKING;
   - otherwise wait for the transcript (KEEP_LISTENING): what was said decides, not how
     fast the recognizer is (a loaded encoder's "Wait." comes late, and is still an
     interruption); with no transcript RECOGNITION_WAIT_MS into the silence (a failed
     recognition) -> RESUME_SPEAKING.
4. Words of a new utterance that arrive after the reply resumed still stop it
   (a short "Wait." whose transcript came late); a late backchannel is ignored.
   The gateway closes the overlap's turn when the reply resumes (CallerTurn.settle),
   so through it this applies only to a turn it still holds open.

After STOP_SPEAKING the new utterance is the caller's pending turn, answered by
the turn rules once the caller finishes it. With barge-in disabled, caller
speech never pauses or stops the reply.
"""
from __future__ import annotations

from collections.abc import Sequence

from services.decider.backchannel import is_backchannel, may_become_backchannel, too_weak_to_interrupt
from services.decider.decision import Outcome, quote
from soundloop.audio.codec import MODEL_RATE
from soundloop.decider.v1 import decider_pb2
from soundloop.encoder.v1 import encoder_pb2
from soundloop.v1 import interaction_pb2 as api

# Longer than any acknowledgement, short enough that a real interruption stops
# the reply well within a second of its onset.
BARGE_IN_SPEECH_MS = 600
BACKCHANNEL_MAX_SPEECH_MS = 1200
# How long a held reply waits, in the silence after short overlap speech, for a transcript that
# never comes (a recognition failed). A recognition normally settles it long before: Moonshine
# answers a short utterance in ~0.1-0.3 s; a loaded one, or Whisper, in ~0.5-1 s.
RECOGNITION_WAIT_MS = 1500
SAMPLES_PER_MS = MODEL_RATE // 1000  # boundaries are sample indices of the 16 kHz stream


def speech_onset_ms(obs: decider_pb2.Observation) -> int | None:
    """When caller speech in this chunk began, or None when there is none."""
    starts = [b.sample for b in obs.boundaries if b.kind == encoder_pb2.BOUNDARY_KIND_SPEECH_START]
    if starts:
        return max(1, starts[-1] // SAMPLES_PER_MS)
    if obs.in_speech:
        return max(1, obs.now_ms - obs.speech_ms)
    return None


def new_words(state: decider_pb2.DeciderState, obs: decider_pb2.Observation) -> str:
    """The transcript when it belongs to an utterance not answered yet, else ''."""
    return obs.transcript.strip() if obs.utterance != state.answered_utterance else ""


def decide_overlap(state: decider_pb2.DeciderState, obs: decider_pb2.Observation,
                   allow_barge_in: bool, names: Sequence[str] = ()) -> Outcome:
    """The decision while a reply is active; updates `state` (overlap, answered utterance).
    `names`: the assistant's wake phrases; one word of them is a cue to stop, like "Wait."."""
    if not allow_barge_in:
        state.overlap_started_ms = 0
        if obs.reply.paused:
            return Outcome(api.ACTION_RESUME_SPEAKING, "barge-in disabled", 1.0)
        return Outcome(api.ACTION_KEEP_LISTENING, "replying (barge-in disabled)", 1.0)
    onset = speech_onset_ms(obs)
    if onset is not None and not obs.reply.paused:
        if not state.overlap_started_ms:
            state.overlap_started_ms = onset
        return Outcome(api.ACTION_PAUSE_SPEAKING, "caller speech over the reply", 0.6)
    if not state.overlap_started_ms:
        return _no_overlap(state, obs, names)
    return _during_overlap(state, obs, names)


def _no_overlap(state: decider_pb2.DeciderState, obs: decider_pb2.Observation, names: Sequence[str]) -> Outcome:
    words = new_words(state, obs)
    if obs.reply.paused:  # held, but the state knows of no overlap (lost state): do not hold forever
        return Outcome(api.ACTION_RESUME_SPEAKING, "reply held without an overlap", 0.7)
    if words and is_backchannel(words):
        state.answered_utterance = obs.utterance
        return Outcome(api.ACTION_IGNORE_BACKCHANNEL, f"backchannel {quote(words)}", 0.8)
    if words and too_weak_to_interrupt(words, names):
        if obs.transcript_is_final:
            state.answered_utterance = obs.utterance
        return Outcome(api.ACTION_KEEP_LISTENING, f"replying; weak words {quote(words)} do not stop it", 0.7)
    if words and (obs.transcript_is_final or not may_become_backchannel(words)):
        return Outcome(api.ACTION_STOP_SPEAKING, f"barge-in (late words): {quote(words)}", 0.9)
    return Outcome(api.ACTION_KEEP_LISTENING, "replying", 1.0)


def _during_overlap(state: decider_pb2.DeciderState, obs: decider_pb2.Observation,
                    names: Sequence[str]) -> Outcome:
    words = new_words(state, obs)
    backchannel = bool(words) and is_backchannel(words)
    # A partial "I" may still become "I see": only words that cannot are an interruption. With
    # no words yet, the speech may still be an acknowledgement too: the reply is already held,
    # so waiting for the words costs the caller nothing (the benchmark's synthetic "mm-hm"s run
    # 0.7-1.0 s, and stopping them at 600 ms was 7 of its 8 false stops).
    weak = bool(words) and too_weak_to_interrupt(words, names)
    undecided = not obs.transcript_is_final and (not words or weak or may_become_backchannel(words))
    if words and not backchannel and not undecided and not weak:
        state.overlap_started_ms = 0
        return Outcome(api.ACTION_STOP_SPEAKING, f"barge-in: {quote(words)}", 0.9)
    if obs.in_speech:
        limit = BACKCHANNEL_MAX_SPEECH_MS if backchannel or undecided or weak else BARGE_IN_SPEECH_MS
        if obs.speech_ms >= limit:
            state.overlap_started_ms = 0
            return Outcome(api.ACTION_STOP_SPEAKING, f"barge-in: {obs.speech_ms} ms of speech", 0.8)
        return Outcome(api.ACTION_KEEP_LISTENING, "caller speech over the reply, holding", 0.6)
    if backchannel:
        state.overlap_started_ms = 0
        state.answered_utterance = obs.utterance
        return Outcome(api.ACTION_IGNORE_BACKCHANNEL, f"backchannel {quote(words)}", 0.8)
    heard_nothing = obs.utterance != state.answered_utterance and obs.transcript_is_final
    if heard_nothing or obs.silence_ms >= RECOGNITION_WAIT_MS:
        state.overlap_started_ms = 0
        if heard_nothing:
            state.answered_utterance = obs.utterance
        why = f"weak words {quote(words)}" if weak else "no words"
        return Outcome(api.ACTION_RESUME_SPEAKING, f"false interruption: {why}", 0.9 if heard_nothing else 0.7)
    return Outcome(api.ACTION_KEEP_LISTENING, "overlap ended, waiting for its transcript", 0.6)
