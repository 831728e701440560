"""Freeway provider plugin: mistral."""
