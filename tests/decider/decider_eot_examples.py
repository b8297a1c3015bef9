"""Finished and unfinished caller turns, spelled the way Whisper writes them.

Used to calibrate and check the end-of-turn estimator (see services/decider/end_of_turn.py).
"""

FINISHED = [
    "What time is it?",
    "Can you tell me the weather in Paris tomorrow?",
    "I would like to book a table for two.",
    "Thanks, that's all.",
    "Set an alarm for seven in the morning.",
    "What's the capital of France?",
    "Play some jazz music.",
    "How do I get to the train station?",
    "Tell me a joke.",
    "I need a taxi to the airport.",
    "No, that's it. Thank you.",
    "How are you doing today?",
    "Turn the lights on.",
    "Yes, please.",
    "What is it for?",
    "Can you repeat that?",
    "I'm looking for a good Italian restaurant nearby.",
    "what time is it",
    "tell me a joke",
    "call my mom",
]

UNFINISHED = [
    "I would like to book",
    "I would like to book.",
    "Can you tell me the weather in",
    "So I was thinking that maybe we could",
    "What's the capital of",
    "I need a taxi to the",
    "Play some music by",
    "Um, I want to",
    "Tell me about the history of",
    "I was wondering if you could help me with",
    "Set an alarm for",
    "The thing is, um,",
    "I would like to book a table for",
    "What's the weather like in...",
    "My name is John and",
    "So, because the",
    "Can you remind me to",
    "I'm looking for a",
    "what i really want is",
    "and then i said",
]

# Written after the weights were fixed, never used to set them: a check that they generalise.
HELD_OUT_FINISHED = [
    "Where is the nearest pharmacy?",
    "Please cancel my two o'clock meeting.",
    "Send a message to Anna saying I'm running late.",
    "How long does it take to boil an egg?",
    "That sounds great, thanks.",
    "Who won the game last night?",
    "I want to change my flight to Friday.",
    "turn off the kitchen lights",
    "No, I meant the other one.",
    "Is it going to rain this weekend?",
]
HELD_OUT_UNFINISHED = [
    "Please cancel my",
    "Send a message to Anna saying",
    "How long does it take to",
    "I want to change my flight to",
    "Who won the",
    "Is it going to rain this weekend or",
    "Could you, uh,",
    "The reason I'm calling is that",
    "I'd like to order a large pizza with",
    "Remind me tomorrow morning to call the",
]
