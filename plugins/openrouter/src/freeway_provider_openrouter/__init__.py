"""Freeway provider plugin: openrouter."""
