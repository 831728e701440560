"""Freeway provider plugin: groq."""
