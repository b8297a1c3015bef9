"""Spoken questions a phone voice assistant should answer, with the key facts a right reply holds.

Used by `bench.reply_accuracy` to compare LLMs on reply accuracy. Each question is
short and phrased as a caller would say it; its `keywords` are any-of groups, and a
reply is right when every group has at least one of its alternatives in the reply
(whole words or phrases, after `bench.scoring.normalize`, which also turns numbers up
to twenty into words: `("seven",)` matches "7" too). Alternatives list the usual
spellings of one fact ("fifty six", "56"), never a second, different answer; yes/no
questions are left out ("Yes, ... it is closed" would match either way). A number
keyword does not match inside a longer number ("twenty" is not in "twenty five"):
see `bench.reply_accuracy.keyword_hits`.

The set is written for this benchmark and shares no sentence with the conversation
corpus (bench/scenarios.py), so a model tuned on one is not flattered by the other
(tests/bench/test_questions.py checks this).
"""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Question:
    id: str
    category: str
    text: str
    keywords: tuple[tuple[str, ...], ...]  # every group must match; any alternative in a group will do


def _q(id_: str, category: str, text: str, *groups: tuple[str, ...]) -> Question:
    return Question(id_, category, text, groups)


QUESTIONS: tuple[Question, ...] = (
    # Geography
    _q("geo-japan", "geography", "What is the capital of Japan?", ("tokyo",)),
    _q("geo-italy", "geography", "What is the capital city of Italy?", ("rome",)),
    _q("geo-canada", "geography", "What is the capital of Canada?", ("ottawa",)),
    _q("geo-nile", "geography", "What is the longest river in Africa?", ("nile",)),
    _q("geo-everest", "geography", "What is the tallest mountain in the world?", ("everest",)),
    _q("geo-giza", "geography", "In which country are the pyramids of Giza?", ("egypt",)),
    _q("geo-brazil", "geography", "What language do people speak in Brazil?", ("portuguese",)),
    _q("geo-sydney", "geography", "In which country is the city of Sydney?", ("australia",)),
    _q("geo-atlantic", "geography", "Which ocean lies between Europe and North America?", ("atlantic",)),
    # Arithmetic
    _q("math-times", "arithmetic", "What is seven times eight?", ("fifty six", "56")),
    _q("math-plus", "arithmetic", "What is twelve plus fifteen?", ("twenty seven", "27")),
    _q("math-minus", "arithmetic", "What is one hundred minus thirty?", ("seventy", "70")),
    _q("math-half", "arithmetic", "What is half of fifty?", ("twenty five", "25")),
    _q("math-square", "arithmetic", "What is nine squared?", ("eighty one", "81")),
    _q("math-percent", "arithmetic", "What is ten percent of two hundred?", ("twenty",)),
    _q("math-six-seven", "arithmetic", "What do you get if you multiply six by seven?", ("forty two", "42")),
    # Units and time
    _q("unit-cm", "units", "How many centimeters are in a meter?", ("one hundred", "a hundred", "100")),
    _q("unit-grams", "units", "How many grams are in a kilogram?", ("one thousand", "a thousand", "1000")),
    _q("unit-seconds", "units", "How many seconds are there in a minute?", ("sixty", "60")),
    _q("unit-hours", "units", "How many hours are in one day?", ("twenty four", "24")),
    _q("unit-months", "units", "How many months are in a year?", ("twelve",)),
    _q("unit-ounces", "units", "How many ounces are in a pound?", ("sixteen",)),
    _q("unit-feet", "units", "How many feet are in a yard?", ("three",)),
    _q("unit-leap", "units", "How many days does a leap year have?",
       ("366", "three hundred sixty six", "three hundred and sixty six")),
    # Science
    _q("sci-boil", "science", "At what temperature in Celsius does water boil?",
       ("one hundred", "a hundred", "100")),
    _q("sci-freeze-f", "science", "What is the freezing point of water in Fahrenheit?", ("thirty two", "32")),
    _q("sci-co2", "science", "What gas do plants take in from the air?", ("carbon dioxide", "co2")),
    _q("sci-gold", "science", "What is the chemical symbol for gold?", ("au",)),
    _q("sci-mars", "science", "Which planet is known as the red planet?", ("mars",)),
    _q("sci-jupiter", "science", "What is the largest planet in our solar system?", ("jupiter",)),
    _q("sci-heart", "science", "Which organ pumps blood around the body?", ("heart",)),
    _q("sci-bones", "science", "How many bones does an adult human have?",
       ("206", "two hundred six", "two hundred and six")),
    _q("sci-diamond", "science", "What is the hardest natural material?", ("diamond", "diamonds")),
    _q("sci-bees", "science", "What sweet food do bees make?", ("honey",)),
    _q("sci-continents", "science", "How many continents are there on Earth?", ("seven",)),
    # General knowledge
    _q("gk-romeo", "general", "Who wrote Romeo and Juliet?", ("shakespeare",)),
    _q("gk-mona-lisa", "general", "Who painted the Mona Lisa?", ("leonardo", "da vinci", "vinci")),
    _q("gk-armstrong", "general", "Who was the first person to walk on the moon?", ("armstrong",)),
    _q("gk-soccer", "general", "How many players does a soccer team have on the field?", ("eleven",)),
    _q("gk-ww2", "general", "In what year did the Second World War end?", ("1945", "nineteen forty five")),
    _q("gk-guacamole", "general", "What is the main ingredient of guacamole?", ("avocado", "avocados")),
    # Everyday facts and definitions
    _q("def-thermometer", "definitions", "What does a thermometer measure?", ("temperature", "temperatures")),
    _q("def-mice", "definitions", "What is the plural of mouse?", ("mice",)),
    _q("def-kitten", "definitions", "What do you call a baby cat?", ("kitten", "kittens")),
    _q("def-dentist", "definitions", "What do you call a doctor who looks after your teeth?",
       ("dentist", "dentists")),
    _q("day-tuesday", "everyday", "If today is Tuesday, what day is tomorrow?", ("wednesday",)),
    _q("color-mix", "everyday", "What color do you get when you mix blue and yellow?", ("green",)),
    _q("shape-triangle", "everyday", "How many sides does a triangle have?", ("three",)),
    _q("traffic-red", "everyday", "What does a red traffic light tell a driver to do?", ("stop",)),
    # Customer service: the facts needed are in the question, or are common knowledge
    _q("cs-emergency", "customer_service", "Which number do I call for an emergency in the United States?",
       ("911", "nine one one")),
    _q("cs-owe", "customer_service", "My bill was forty dollars and I paid twenty five. How much do I still owe?",
       ("fifteen",)),
    _q("cs-tickets", "customer_service", "I bought two tickets at twelve dollars each. What is the total?",
       ("twenty four", "24")),
    _q("cs-delivery", "customer_service",
       "My parcel was sent on Monday and delivery takes three days. Which day should it arrive?",
       ("thursday",)),
    _q("cs-hours", "customer_service",
       "Your shop opens at eight in the morning and closes at six in the evening. How many hours is it open?",
       ("ten",)),
    _q("cs-receipt", "customer_service", "What should I keep if I might want to return something I bought?",
       ("receipt", "receipts", "proof of purchase")),
    _q("cs-zip", "customer_service", "How many digits are in an American zip code?", ("five",)),
)

__all__ = ["QUESTIONS", "Question"]
