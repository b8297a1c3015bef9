"""The turn and action policy: one pure function from (state, observation, policy) to a decision.

No wall clock: time is `observation.now_ms`, the session's audio clock, so a
scripted timeline replays exactly. Rules, first match wins:

1. Typed text (`text_input`) -> RESPOND ("typed instruction"), or what rule 7 makes of it.
2. A reply is active -> the barge-in rules of services/decider/barge_in.py
   (PAUSE_SPEAKING at the onset of caller speech, then STOP_SPEAKING,
   IGNORE_BACKCHANNEL or RESUME_SPEAKING; KEEP_LISTENING otherwise).
3. The caller is speaking -> KEEP_LISTENING ("caller speaking").
4. The caller's turn is pending (not speaking; the transcript of utterance U is
   not empty; U is not state.answered_utterance): with p_end the end-of-turn
   probability of the transcript (estimated once per new text, cached in the state),
   - silence >= min_silence and p_end >= threshold -> RESPOND ("finished turn");
   - silence >= max_silence -> RESPOND ("long silence");
   - else KEEP_LISTENING ("pause mid-turn"), unless rule 5 responds to a sound.
   Eagerness sets the defaults: min_silence 500 / 250 / 150 ms, max_silence
   2500 / 1800 / 1000 ms, threshold 0.7 / 0.5 / 0.35 (low / medium / high).
   An empty transcript never triggers a reply (it was noise).
   With the learned turn model (TURN_MODEL_LEARNED, services/decider/turn_model.py) instead:
   P(turn over) after the last chunk >= its own threshold (0.85 / 0.7 / 0.5 by eagerness) -> RESPOND
   ("finished turn ... model p"); silence >=
   max_silence -> RESPOND ("long silence"); else KEEP_LISTENING. The model steps once per
   chunk observation, whatever the rule that decides; it starts afresh after each reply.
   Until it has seen a chunk (observations without prosody), the rules decide.
   A turn of speech the recogniser made out no words of (its final transcript is empty, the
   VAD heard >= UNHEARD_SPEECH_MS of speech: a noisy or broken line, not a cough) -> RESPOND
   ("speech not understood") once the silence reaches max_silence; the gateway's reply asks
   the caller to say it again instead of leaving them in silence.
5. Sounds (services/decider/sound_reaction.py), heard at any moment: a respond-sound ->
   RESPOND_TO_SOUND when the line is free (at most once per cool-down); heard while it is
   busy, it waits: over a reply it is reacted to at once (the gateway stops the reply), unless
   the caller is talking over it (barge-in first); over the caller, an urgent one is reacted
   to at their next pause (superseding their half-said turn, as typed text does) and another
   rides on the RESPOND to their turn (DecideResponse.sound). Any other notable sound ->
   IGNORE_SOUND.
6. Otherwise KEEP_LISTENING ("silence", "waiting for the transcript").
7. The response mode (services/decider/response_policy.py) has the last word on a finished
   turn: an instruction in it changes the mode or the reply length (CHANGE_MODE), and a
   turn the mode does not answer is only noted (NO_REPLY); respond-sounds are answered only
   in the converse and sounds-only modes.

Each response also says how long its decision holds while nothing new is observed
(`stable_until_ms`), so the gateway need not ask per chunk on a quiet line or while
a reply plays: only KEEP_LISTENING holds; a pending turn's holds until the silence
reaches the next threshold.

Every RESPOND made while the caller is quiet marks the caller's latest
utterance answered (a typed instruction or a sound reply supersedes a
half-said turn), so that its words are never answered twice nor taken for a
barge-in on the new reply. The state's
last_action / last_reason record the decision.
"""
from __future__ import annotations

import dataclasses

from services.decider import barge_in, response_policy, sound_reaction, turn_model as learned
from services.decider.decision import Outcome
from services.decider.end_of_turn import EndOfTurnEstimator
from services.decider.turn_settings import InvalidRequest, ResolvedPolicy, TurnSettings, resolve
from soundloop import instructions
from soundloop.decider.v1 import decider_pb2
from soundloop.v1 import interaction_pb2 as api

# The gateway starts reply turns: RESPOND decisions carry no turn id; barge-in
# decisions act on the active reply and carry its id.
_ACTS_ON_REPLY = frozenset({api.ACTION_PAUSE_SPEAKING, api.ACTION_STOP_SPEAKING,
                            api.ACTION_IGNORE_BACKCHANNEL, api.ACTION_RESUME_SPEAKING})
# Decisions that are done with the caller's latest utterance (answered, noted, or an instruction).
_CLOSES_TURN = frozenset({api.ACTION_RESPOND, api.ACTION_RESPOND_TO_SOUND, api.ACTION_CHANGE_MODE,
                          api.ACTION_NO_REPLY})


def _quiet_unanswered_turn(state: decider_pb2.DeciderState, obs: decider_pb2.Observation) -> bool:
    """The caller has stopped speaking, nothing else is going on, and their utterance is not answered."""
    busy = obs.text_input.strip() or obs.reply.active or obs.in_speech
    return not busy and obs.utterance != state.answered_utterance


def pending_turn_text(state: decider_pb2.DeciderState, obs: decider_pb2.Observation) -> str | None:
    """The transcript of the caller's unanswered, ended utterance, when rule 4 applies."""
    text = obs.transcript.strip()
    return text if text and _quiet_unanswered_turn(state, obs) else None


def end_of_turn_probability(state: decider_pb2.DeciderState, text: str, estimator: EndOfTurnEstimator) -> float:
    """p_end of `text`, from the state's cache or the estimator (and then cached)."""
    if state.eot_text != text:
        state.eot_probability = estimator.probability(text)
        state.eot_text = text
    return state.eot_probability


def validate(state: decider_pb2.DeciderState, obs: decider_pb2.Observation,
             policy: decider_pb2.DeciderPolicy) -> ResolvedPolicy:
    """The resolved policy; raises InvalidRequest for a bad policy or a clock that went backwards."""
    settings = resolve(policy)
    for name in ("overlap_started_ms", "last_sound_response_ms"):
        if getattr(state, name) > obs.now_ms:
            raise InvalidRequest(
                f"observation.now_ms ({obs.now_ms}) is before state.{name} ({getattr(state, name)}): "
                "the state belongs to a later point of the stream (start a new stream with an empty state)")
    return settings


def decide(state: decider_pb2.DeciderState, obs: decider_pb2.Observation, policy: decider_pb2.DeciderPolicy,
           estimator: EndOfTurnEstimator, turn_model: learned.TurnModel | None = None,
           default_model: int = api.TURN_MODEL_RULES) -> decider_pb2.DecideResponse:
    """The decision for one observation. Raises InvalidRequest for a bad policy or clock, or for a
    learned turn model asked of a decider that has none (`turn_model` None)."""
    settings = validate(state, obs, policy)
    model = uses_learned_model(settings.turn, turn_model, default_model)
    new_state = decider_pb2.DeciderState()
    new_state.CopyFrom(state)
    if obs.reply.active:
        del new_state.turn_model_hidden[:]  # the next caller turn starts the model afresh
        new_state.turn_model_probability = 0.0
    elif model is not None and obs.HasField("prosody"):
        _step(model, new_state, obs)
    if obs.text_input.strip():
        new_state.overlap_started_ms = 0  # the typed turn replaces any held reply
        outcome = response_policy.follow(new_state, obs.text_input, settings.response, typed=True,
                                         respond=Outcome(api.ACTION_RESPOND, "typed instruction", 1.0))
    elif obs.reply.active:
        _, held = _take_in_sounds(new_state, obs, settings)
        if held is not None and not obs.in_speech and not obs.reply.paused:
            outcome = _react(new_state, held, obs, "over the reply")  # the gateway stops the reply for it
        else:
            wake = instructions.in_force(new_state, settings.response).wake_phrases  # being named is a cue too
            outcome = barge_in.decide_overlap(new_state, obs, settings.turn.allow_barge_in, wake)
    else:
        new_state.overlap_started_ms = 0
        # The model decides once it has seen the line; a caller that sends no chunk prosody (a gateway
        # from before it, mid rolling upgrade) gets the rules instead of a model that never heard anything.
        learned_turn = model is not None and len(new_state.turn_model_hidden) > 0
        outcome = _listen(new_state, obs, settings, estimator, learned_turn)
    response = _response(new_state, obs, outcome)
    response.stable_until_ms = stable_until(outcome, new_state, obs, settings.turn, model is not None)
    return response


def uses_learned_model(turn: TurnSettings, model: learned.TurnModel | None,
                       default_model: int) -> learned.TurnModel | None:
    """The learned model when the policy (or, unspecified, the server's default) asks for it."""
    wanted = turn.model or default_model
    if wanted != api.TURN_MODEL_LEARNED:
        return None
    if model is None:
        raise InvalidRequest("policy.turn_detection.model: this server has no learned turn model "
                             "(use TURN_MODEL_RULES)")
    return model


def _step(model: learned.TurnModel, state: decider_pb2.DeciderState, obs: decider_pb2.Observation) -> None:
    """Advances the learned model by the chunk in `obs`; the text feature is the end-of-turn LM's
    score of the pending turn's transcript, as the stage cached it in the state."""
    text = pending_turn_text(state, obs)
    p_end = state.eot_probability if text is not None and state.eot_text == text else None
    probs, hidden = model.step(list(state.turn_model_hidden), learned.features(obs, p_end))
    state.turn_model_hidden[:] = hidden
    state.turn_model_probability = float(probs[learned.RESPOND])


UNTIL_NEW_INPUT = -1
# Longer than the coughs, laughs and clicks the VAD lets through (mostly under half a second);
# as short as a spoken question ("What time is it?" takes ~0.8 s).
UNHEARD_SPEECH_MS = 800


# The learned model needs every chunk while a turn may end; this long after speech, with nothing
# pending, its state has settled and quiet chunks can be skipped until something new is heard.
LEARNED_SETTLED_SILENCE_MS = 3000


def stable_until(outcome: Outcome, state: decider_pb2.DeciderState, obs: decider_pb2.Observation,
                 turn: TurnSettings, learned_model: bool = False) -> int:
    """When the decision can change with time alone (see DecideResponse.stable_until_ms)."""
    if outcome.action != api.ACTION_KEEP_LISTENING or obs.text_input.strip():
        return 0  # acting decisions and sounds are one-offs: the next observation differs
    if obs.reply.active:
        # Overlap timers run while the caller talks over the reply; a quiet overlap-free line does not change.
        return UNTIL_NEW_INPUT if not obs.in_speech and not state.overlap_started_ms else 0
    if learned_model:
        settled = not obs.in_speech and outcome.end_of_turn_probability is None
        return UNTIL_NEW_INPUT if settled and obs.silence_ms >= LEARNED_SETTLED_SILENCE_MS else 0
    p_end = outcome.end_of_turn_probability
    if p_end is None:
        return UNTIL_NEW_INPUT  # caller speaking, waiting for a transcript, or silence
    # A pending turn: answered once the silence reaches min_silence (if it sounds finished) or max_silence.
    thresholds = [turn.max_silence_ms] + ([turn.min_silence_ms] if p_end >= turn.end_of_turn_threshold else [])
    return int(obs.now_ms) + max(1, min(thresholds) - obs.silence_ms)


def _listen(state: decider_pb2.DeciderState, obs: decider_pb2.Observation, settings: ResolvedPolicy,
            estimator: EndOfTurnEstimator, learned_model: bool) -> Outcome:
    """Rules 3-7: no reply is active."""
    heard, held = _take_in_sounds(state, obs, settings)
    if obs.in_speech:
        return Outcome(api.ACTION_KEEP_LISTENING, "caller speaking", 1.0)
    turn = None
    text = pending_turn_text(state, obs)
    if held is not None and held.urgent:
        # At the caller's first pause. The reaction supersedes their half-said turn: the gateway keeps its
        # words in the history, and what they say next is a new turn.
        return _react(state, held, obs, "in the caller's pause" if text is not None else "")
    if text is not None and learned_model:
        # The model has weighed the silence already: no minimum on top of its threshold.
        turn = _end_of_turn(settings.turn, obs.silence_ms, state.turn_model_probability, 0,
                            settings.turn.model_threshold, "model p")
    elif text is not None:
        turn = _end_of_turn(settings.turn, obs.silence_ms, end_of_turn_probability(state, text, estimator),
                            settings.turn.min_silence_ms, settings.turn.end_of_turn_threshold, "p_end")
    elif unheard_turn(state, obs):
        turn = _unheard_turn(settings.turn, obs)
    response = instructions.in_force(state, settings.response)
    if turn is not None and turn.action == api.ACTION_RESPOND:
        if text is None:
            if response_policy.answers_speech(response):
                return turn
            return Outcome(api.ACTION_NO_REPLY, f"{instructions.MODE_NAMES[response.mode]}: unclear speech not "
                           "answered", 0.5, end_of_turn_probability=turn.end_of_turn_probability)
        outcome = response_policy.follow(state, text, settings.response, typed=False, respond=turn,
                                         may_wait=obs.silence_ms < settings.turn.max_silence_ms)
        if outcome.action == api.ACTION_RESPOND and held is not None:
            # A sound heard during the caller's turn: the answer to their words reacts to it too.
            sound_reaction.release(state)
            state.last_sound_response_ms = max(1, obs.now_ms)
            outcome = dataclasses.replace(outcome, sound=held.tag, reason=f"{outcome.reason}; {held.reason}")
        return outcome
    if held is not None and text is None and not _awaiting_words(state, obs):
        return _react(state, held, obs, "")
    if turn is not None:
        return turn
    if heard is not None and not (heard.respond and held is not None):  # a held one waits for the words
        return Outcome(api.ACTION_IGNORE_SOUND, _ignored_reason(heard, response), heard.tag.score)
    if _awaiting_words(state, obs):
        return Outcome(api.ACTION_KEEP_LISTENING, "waiting for the transcript", 0.8)
    return Outcome(api.ACTION_KEEP_LISTENING, "silence", 1.0)


def _awaiting_words(state: decider_pb2.DeciderState, obs: decider_pb2.Observation) -> bool:
    """The caller's latest utterance is unanswered and its transcript has not come yet."""
    return (obs.utterance not in (0, state.answered_utterance) and not obs.transcript.strip()
            and not obs.transcript_is_final)


def _take_in_sounds(state: decider_pb2.DeciderState, obs: decider_pb2.Observation, settings: ResolvedPolicy
                    ) -> tuple[sound_reaction.SoundReaction | None, sound_reaction.SoundReaction | None]:
    """(the most notable sound of this observation, the sound waiting for a reaction): a respond-sound
    heard now is held; none waits in the modes that do not react to sounds."""
    heard = sound_reaction.react(obs.sound_tags, settings.sound, obs.now_ms, state.last_sound_response_ms)
    if not response_policy.reacts_to_sounds(instructions.in_force(state, settings.response)):
        sound_reaction.release(state)
        return heard, None
    if heard is not None and heard.respond:
        sound_reaction.hold(state, heard.tag, obs.now_ms)
    return heard, sound_reaction.pending(state, settings.sound, obs.now_ms)


def _react(state: decider_pb2.DeciderState, held: sound_reaction.SoundReaction, obs: decider_pb2.Observation,
           where: str) -> Outcome:
    sound_reaction.release(state)
    state.last_sound_response_ms = max(1, obs.now_ms)
    reason = f"{held.reason} {where}".strip()
    return Outcome(api.ACTION_RESPOND_TO_SOUND, reason, held.tag.score, sound=held.tag)


def _ignored_reason(sound: sound_reaction.SoundReaction, response: api.ResponsePolicy) -> str:
    if sound.respond:  # the mode keeps it quiet
        return f"{instructions.MODE_NAMES[response.mode]}: {sound.tag.label} not answered"
    return sound.reason


def unheard_turn(state: decider_pb2.DeciderState, obs: decider_pb2.Observation) -> bool:
    """The caller's ended, unanswered turn had speech but its final transcript has no words."""
    return (obs.utterance != 0 and obs.transcript_is_final and not obs.transcript.strip()
            and obs.turn_speech_ms >= UNHEARD_SPEECH_MS and _quiet_unanswered_turn(state, obs))


def _unheard_turn(turn: TurnSettings, obs: decider_pb2.Observation) -> Outcome:
    """Speech without words: asked to repeat once the caller has been quiet for max_silence (they may
    still go on, and be heard then). Its p_end is 0: nothing says the turn is over but the silence."""
    said = f"{obs.turn_speech_ms} ms of speech, no words recognized"
    if obs.silence_ms >= turn.max_silence_ms:
        return Outcome(api.ACTION_RESPOND, f"speech not understood ({said})", 0.5, end_of_turn_probability=0.0)
    return Outcome(api.ACTION_KEEP_LISTENING, f"pause after unclear speech ({said})", 0.5,
                   end_of_turn_probability=0.0)


def _end_of_turn(turn: TurnSettings, silence_ms: int, p_end: float, min_silence_ms: int, threshold: float,
                 score: str) -> Outcome:
    """A pending turn: answered once it sounds finished (`p_end`, the LM's score or the learned model's,
    named `score` in the reason, at least `threshold`) after `min_silence_ms`, or after max_silence
    whatever it sounds like."""
    said = f"{score}={p_end:.2f}"
    if silence_ms >= min_silence_ms and p_end >= threshold:
        return Outcome(api.ACTION_RESPOND, f"finished turn after {silence_ms} ms silence, {said}",
                       p_end, end_of_turn_probability=p_end)
    if silence_ms >= turn.max_silence_ms:
        return Outcome(api.ACTION_RESPOND, f"long silence ({silence_ms} ms), {said}", 0.6,
                       end_of_turn_probability=p_end)
    return Outcome(api.ACTION_KEEP_LISTENING, f"pause mid-turn, {said}", 1.0 - p_end,
                   end_of_turn_probability=p_end)


def _response(state: decider_pb2.DeciderState, obs: decider_pb2.Observation,
              outcome: Outcome) -> decider_pb2.DecideResponse:
    if outcome.action in _CLOSES_TURN and not obs.in_speech:
        state.answered_utterance = obs.utterance
    state.last_action = outcome.action
    state.last_reason = outcome.reason
    response = decider_pb2.DecideResponse(state=state)
    response.decision.action = outcome.action
    response.decision.reason = outcome.reason
    response.decision.confidence = outcome.confidence
    if outcome.action in _ACTS_ON_REPLY:
        response.decision.turn_id = obs.reply.turn_id
    if outcome.end_of_turn_probability is not None:
        response.end_of_turn_probability = outcome.end_of_turn_probability
    if outcome.sound is not None:
        response.sound.CopyFrom(outcome.sound)
    response.max_sentences = outcome.max_sentences
    response.confirmation = outcome.confirmation
    return response
