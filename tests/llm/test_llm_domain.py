"""Pure logic of the LLM stage: validation, context trimming, SSE parsing, token text."""
from __future__ import annotations

import numpy as np
import pytest

from services.llm.chat import InvalidRequest, Message, validate_conversation, validate_sampling
from services.llm.context_window import fit_conversation, turn_starts
from services.llm.kv_snapshots import common_prefix
from services.llm.openai_backend import DONE, BackendError, parse_sse_line
from services.llm.stage import to_messages
from services.llm.token_text import TokenTextDecoder
from soundloop.llm.v1 import llm_pb2

pytestmark = pytest.mark.unit


def words(messages) -> int:
    return sum(len(m.content.split()) + 1 for m in messages)


def conversation(turns: int) -> list[Message]:
    out = [Message("system", "be brief")]
    for i in range(turns):
        out += [Message("user", f"question {i} " + "word " * 8), Message("assistant", f"answer {i} " + "word " * 8)]
    return out + [Message("user", "last question")]


def test_validation_rejects_what_cannot_be_answered():
    with pytest.raises(InvalidRequest, match="empty"):
        validate_conversation([])
    with pytest.raises(InvalidRequest, match="end with a user message"):
        validate_conversation([Message("user", "hi"), Message("assistant", "hello")])
    validate_conversation([Message("system", "s"), Message("user", "hi")])
    with pytest.raises(InvalidRequest, match="temperature"):
        validate_sampling(10, -0.5)
    with pytest.raises(InvalidRequest, match="temperature"):
        validate_sampling(10, float("nan"))
    with pytest.raises(InvalidRequest, match="max_tokens"):
        validate_sampling(0, 0.3)


def test_unspecified_role_is_invalid():
    messages = [llm_pb2.ChatMessage(role=llm_pb2.ROLE_USER, content="hi"), llm_pb2.ChatMessage(content="no role")]
    with pytest.raises(ValueError, match=r"messages\[1\].role is ROLE_UNSPECIFIED"):
        to_messages(messages)
    assert to_messages(messages[:1]) == [Message("user", "hi")]


def test_a_conversation_that_fits_is_kept_whole():
    messages = conversation(3)
    assert fit_conversation(messages, words, budget=10_000) == messages


def test_overflow_drops_oldest_turns_and_keeps_system_prompt_and_last_turn():
    messages = conversation(20)
    budget = words(messages) // 2
    kept = fit_conversation(messages, words, budget=budget)
    assert words(kept) <= budget
    assert kept[0] == messages[0]
    assert kept[1].role == "user" and kept[1].content != messages[1].content
    assert kept[-1] == messages[-1]
    # Whole turns go: what is kept is a suffix of the conversation.
    assert kept[1:] == messages[len(messages) - len(kept) + 1:]


def test_the_cut_stays_put_while_the_conversation_grows():
    messages = conversation(20)
    budget = words(messages) // 2 + 40
    first = fit_conversation(messages, words, budget=budget)
    grown = messages + [Message("assistant", "short"), Message("user", "again")]
    second = fit_conversation(grown, words, budget=budget)
    # Same first kept turn, so the prompt prefix (and its KV cache) survives the next turn.
    assert second[1] == first[1]


def test_overflow_of_the_last_turn_alone_is_an_invalid_request():
    messages = [Message("system", "s"), Message("user", "word " * 100)]
    with pytest.raises(InvalidRequest, match="alone exceed"):
        fit_conversation(messages, words, budget=50)
    with pytest.raises(InvalidRequest, match="no room"):
        fit_conversation(messages, words, budget=0)


def test_turns_start_at_user_messages_or_an_opening_greeting():
    messages = [Message("system", "s"), Message("assistant", "hello, how can I help?"), Message("user", "a"),
                Message("assistant", "b"), Message("user", "c")]
    assert turn_starts(messages) == [1, 2, 4]


def test_sse_lines():
    assert parse_sse_line(b'data: {"choices": [{"delta": {"content": "Hi"}}]}\n') == {
        "choices": [{"delta": {"content": "Hi"}}]}
    assert parse_sse_line(b"data:[DONE]\r\n") is DONE
    assert parse_sse_line(b"\n") is None
    assert parse_sse_line(b": ping\n") is None
    with pytest.raises(BackendError, match="mid-stream"):
        parse_sse_line(b'data: {"error": {"message": "boom"}}')
    with pytest.raises(BackendError, match="not JSON"):
        parse_sse_line(b"data: {oops")


def test_characters_split_across_tokens_come_out_whole():
    decoder = TokenTextDecoder()
    encoded = "café 🎉".encode()
    pieces = [decoder.feed(encoded[i:i + 1]) for i in range(len(encoded))]
    assert "".join(pieces) + decoder.flush() == "café 🎉"
    assert "\ufffd" not in "".join(pieces)
    assert pieces[3] == ""  # first byte of "é" held back


def test_common_prefix():
    evaluated = np.array([1, 2, 3, 4], dtype=np.intc)
    assert common_prefix(evaluated, [1, 2, 9]) == 2
    assert common_prefix(evaluated, [1, 2, 3, 4, 5]) == 4
    assert common_prefix(evaluated[:0], [1]) == 0
