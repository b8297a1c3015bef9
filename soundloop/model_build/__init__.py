"""Build steps that turn extracted model files into the form the stages load (run once at assembly)."""
