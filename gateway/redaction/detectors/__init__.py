"""Detectors: each finds one family of personal data in a transcript and its detection view."""
