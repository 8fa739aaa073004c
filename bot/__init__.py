"""Wiring, settings, translations and rendering of the field-reporting bot."""
