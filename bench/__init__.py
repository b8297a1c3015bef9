"""Benchmarks (not tests): scripted callers against the real system and its baselines."""

import os as _os

from soundloop.settings import LOCAL_DEVELOPMENT_ENV as _LOCAL

# Benchmarks start their systems on this machine, as local development ones (plaintext, no API keys,
# loopback), unless SOUNDLOOP_SECURITY__* says otherwise.
for _key, _value in _LOCAL.items():
    _os.environ.setdefault(_key, _value)
