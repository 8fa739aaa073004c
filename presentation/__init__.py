"""Presentation: translations, rendering, keyboards, callback data, files for people."""
