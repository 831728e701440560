"""Freeway provider plugin: cohere."""
