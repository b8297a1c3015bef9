"""soundloop: an open Audio Interaction Model server (perceive -> decide -> respond).

This package holds what every process shares: settings, the model registry,
audio codecs, gRPC server plumbing, telemetry and the CLI. The generated
contract code lives in its versioned subpackages (soundloop.v1, soundloop.<stage>.v1).
"""
