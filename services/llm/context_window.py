"""Fitting a conversation into the model's context: the oldest turns go first, the system prompt stays."""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from services.llm.chat import InvalidRequest, Message

log = logging.getLogger(__name__)

# Turns are dropped in blocks counted from the start of the conversation. The cut then stays at
# the same message for several turns, so the prompt prefix (and the backend's KV cache for it)
# survives until the next block has to go, instead of changing on every turn after an overflow.
TRIM_BLOCK_TURNS = 4


def turn_starts(messages: Sequence[Message]) -> list[int]:
    """Indices where a turn begins: each user message, and whatever opens the conversation after the system prompt."""
    first = leading_system_count(messages)
    starts = [first] if first < len(messages) else []
    starts += [i for i in range(first + 1, len(messages)) if messages[i].role == "user"]
    return starts


def leading_system_count(messages: Sequence[Message]) -> int:
    n = 0
    while n < len(messages) and messages[n].role == "system":
        n += 1
    return n


def fit_conversation(
    messages: Sequence[Message],
    count_tokens: Callable[[Sequence[Message]], int],
    budget: int,
    *,
    session_id: str = "",
    block_turns: int = TRIM_BLOCK_TURNS,
) -> list[Message]:
    """The conversation, with the oldest non-system turns dropped until `count_tokens` fits `budget`.

    The leading system messages and the last turn are always kept; if even those do not fit,
    the request cannot be answered and `InvalidRequest` says why.
    """
    messages = list(messages)
    if budget <= 0:
        raise InvalidRequest(f"max_tokens leaves no room for the prompt in the context ({budget} tokens left)")
    if count_tokens(messages) <= budget:
        return messages
    system = messages[:leading_system_count(messages)]
    starts = turn_starts(messages)
    candidates = starts[block_turns::block_turns]
    if not candidates or candidates[-1] != starts[-1]:
        candidates.append(starts[-1])
    for start in candidates:
        kept = system + messages[start:]
        if count_tokens(kept) <= budget:
            log.info("session %r: conversation of %d messages exceeds %d prompt tokens; dropped the oldest %d",
                     session_id, len(messages), budget, start - len(system))
            return kept
    raise InvalidRequest(
        f"the system prompt and the last user message alone exceed the {budget} prompt tokens the context leaves")
