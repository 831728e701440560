"""Freeway's bundled web panel: a plugin contributing routes under ``/panel``."""
