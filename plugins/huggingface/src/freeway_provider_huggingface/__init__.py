"""Freeway provider plugin: huggingface."""
