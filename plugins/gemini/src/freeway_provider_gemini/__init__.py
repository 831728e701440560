"""Freeway provider plugin: gemini."""
