"""Prompt tokens for a conversation, from the chat template the GGUF file carries."""
from __future__ import annotations

from collections.abc import Sequence

import llama_cpp
from llama_cpp.llama_chat_format import Jinja2ChatFormatter

from services.llm.chat import Message

# For GGUFs that carry no template: ChatML, which SmolLM2 and Qwen2.5 both use.
CHATML = ("{% for message in messages %}"
          "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
          "{% endfor %}"
          "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")


class GgufChatTemplate:
    """Renders messages with the model's own template and tokenises them as llama-cpp-python's chat handler does."""

    def __init__(self, llm: llama_cpp.Llama):
        self._llm = llm
        template = llm.metadata.get("tokenizer.chat_template") or CHATML
        self._formatter = Jinja2ChatFormatter(
            template=template,
            eos_token=self._token_text(llm.token_eos()),
            bos_token=self._token_text(llm.token_bos()),
            add_generation_prompt=True,
        )

    def _token_text(self, token: int) -> str:
        if token < 0:
            return ""
        return self._llm.detokenize([token], special=True).decode("utf-8", errors="replace")

    def tokens(self, messages: Sequence[Message]) -> list[int]:
        """The prompt, ending with the assistant header the reply continues from."""
        rendered = self._formatter(messages=[{"role": m.role, "content": m.content} for m in messages])
        # special=True so the template's control tokens (<|im_start|>...) become single tokens.
        return self._llm.tokenize(rendered.prompt.encode("utf-8"), add_bos=not rendered.added_special, special=True)
