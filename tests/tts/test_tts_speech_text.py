"""speakable(): what reaches the synthesizer once markup is gone."""
import pytest

from services.tts.speech_text import speakable

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("text, spoken", [
    ("**Sure!** Here is _one_ idea.", "Sure! Here is one idea."),
    ("# Opening hours", "Opening hours"),
    ("- eggs", "eggs"),
    ("* milk and bread", "milk and bread"),
    ("> quoted advice", "quoted advice"),
    ("# Title\n- first item\n- second item", "Title. first item. second item"),
    ("Run `make test` now", "Run make test now"),
    ("```python\nprint(1)\n```", "print(1)"),
    ("Read [the docs](https://example.org/a/b) first", "Read the docs first"),
    ("See https://www.example.com/docs?x=1. Then call.", "See example dot com. Then call."),
    ("visit www.python.org today", "visit python dot org today"),
    ("Great job 😀👍🏽 see you", "Great job see you"),
    ("Sunny ☀️ and 20°C", "Sunny and 20°C"),  # the degree sign is speech, the sun is not
    ("Tom & Jerry", "Tom and Jerry"),
    ("keep my_variable_name whole", "keep my_variable_name whole"),
    ("~~old~~ new", "old new"),
    ("say [[hɛloʊ]] now", "say hɛloʊ now"),  # Piper would take [[...]] as phonemes
    ("  lots \n\n of\t space  ", "lots. of space"),
    ("-5 degrees", "-5 degrees"),  # a minus sign is not a bullet
    ("🎉🎉", ""),
    ("**", ""),
])
def test_speakable(text, spoken):
    assert speakable(text) == spoken
