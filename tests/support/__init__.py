"""Shared test support: real servers started on loopback."""
