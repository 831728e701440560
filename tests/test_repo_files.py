"""Deployment files stay correct: compose services and labels, Dockerfile essentials."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_compose_has_gateway_worker_postgres_redis_and_traefik_labels():
    compose = yaml.safe_load((ROOT / "compose.yml").read_text())
    services = compose["services"]
    assert {"gateway", "worker", "postgres", "redis"} <= set(services)
    assert services["worker"]["command"] == ["freeway", "worker"]
    labels = services["gateway"]["labels"]
    assert "traefik.enable=true" in labels
    assert any("Host(`${FREEWAY_DOMAIN" in label for label in labels)
    assert any("certresolver=${TRAEFIK_CERTRESOLVER" in label for label in labels)
    assert compose["networks"]["proxy"]["external"] is True


def test_dockerfile_is_multistage_non_root_with_healthcheck():
    text = (ROOT / "Dockerfile").read_text()
    assert text.count("\nFROM ") + text.startswith("FROM ") >= 2
    assert "uv sync --frozen" in text
    assert "\nUSER freeway" in text
    assert "HEALTHCHECK" in text and "/health" in text
