"""Whether a finished turn is answered, under the session's response mode, and the instructions
that change the mode.

The turn policy decides *when* a caller's turn is over; this decides *what follows*:
- a turn that is an instruction ("just transcribe from now on", soundloop/instructions.py)
  changes the response policy in the decider state, so it survives a resume, and is
  confirmed (CHANGE_MODE) unless it also asks something, which is then answered under the
  new policy;
- otherwise the mode says whether to answer (RESPOND, with the reply's sentence limit) or
  only note the turn (NO_REPLY): transcribe-only and sounds-only answer no speech,
  quiet-until-addressed answers a turn that says a wake phrase or asks a direct question.
  A typed message is addressed to the assistant by nature.
"""
from __future__ import annotations

from services.decider.decision import Outcome, quote
from soundloop import instructions
from soundloop.decider.v1 import decider_pb2
from soundloop.v1 import interaction_pb2 as api

_SPEECHLESS = (api.RESPONSE_MODE_TRANSCRIBE_ONLY, api.RESPONSE_MODE_SOUNDS_ONLY)


def reacts_to_sounds(policy: api.ResponsePolicy) -> bool:
    return policy.mode in (api.RESPONSE_MODE_CONVERSE, api.RESPONSE_MODE_SOUNDS_ONLY)


def answers_speech(policy: api.ResponsePolicy) -> bool:
    """Speech may be answered at all (in quiet mode, only when addressed)."""
    return policy.mode not in _SPEECHLESS


def follow(state: decider_pb2.DeciderState, text: str, initial: api.ResponsePolicy, typed: bool,
           respond: Outcome, may_wait: bool = False) -> Outcome:
    """The outcome of a finished turn saying `text`: `respond` (the turn policy's RESPOND, its reason
    kept) when it is to be answered, else CHANGE_MODE or NO_REPLY. Updates state.response.

    `may_wait`: the silence is still short of max_silence. In quiet mode a turn that is only the wake
    phrase ("Computer." then a breath) then waits for the request that usually follows, so that the
    two are one turn; if none comes, the name alone is answered at max_silence."""
    before = api.ResponsePolicy()
    before.CopyFrom(instructions.in_force(state, initial))  # a copy: the state's own message changes below
    policy = before
    instruction = instructions.parse(text)
    if instruction is not None and instruction.changes_policy:
        after = instruction.applied_to(before)
        if after != before:
            state.response.CopyFrom(after)
            policy = after
            silent_mode = after.mode in _SPEECHLESS or after.mode == api.RESPONSE_MODE_QUIET_UNTIL_ADDRESSED
            # Back from a silent mode, only what follows the instruction asks for an answer: what
            # came before it ("... the sun rose. You can talk again.") was said for transcribing.
            asks = instruction.content_after if before.mode != after.mode else instruction.has_content
            if not asks or (silent_mode and after.mode != before.mode):
                return Outcome(api.ACTION_CHANGE_MODE, f"instruction: {instructions.describe(after)}", 1.0,
                               confirmation=instructions.confirmation(before, after))
    if not instructions.answers_turn(policy, text, typed):
        return Outcome(api.ACTION_NO_REPLY, f"{instructions.MODE_NAMES[policy.mode]}: not answered {quote(text)}",
                       1.0, end_of_turn_probability=respond.end_of_turn_probability)
    if (policy.mode == api.RESPONSE_MODE_QUIET_UNTIL_ADDRESSED and not typed and may_wait
            and instructions.only_wake_phrase(text, policy.wake_phrases)):
        return Outcome(api.ACTION_KEEP_LISTENING, f"wake phrase {quote(text)}: waiting for the request", 1.0,
                       end_of_turn_probability=respond.end_of_turn_probability)
    limit = policy.max_sentences
    if instruction is not None and instruction.max_sentences is not None and not instruction.lasting:
        limit = instruction.max_sentences  # "In one sentence, ...": this reply only
    return Outcome(respond.action, respond.reason, respond.confidence, respond.end_of_turn_probability,
                   max_sentences=limit)
