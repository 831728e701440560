"""Freeway provider plugin: openai."""
