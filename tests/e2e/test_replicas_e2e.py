"""Two replicas sharing one Redis (and one database) enforce one rate limit."""

from __future__ import annotations

import httpx
import pytest
from harness import ServerFactory


@pytest.mark.redis
def test_two_servers_on_one_redis_share_a_projects_limit(
    make_server: ServerFactory, redis_url: str
):
    first = make_server(REDIS_URL=redis_url).start()
    project = first.create_project("shared-limit", rate_limit_per_minute=4)
    # Started after the project exists, so its cache loads the key at startup.
    second = make_server(REDIS_URL=redis_url).start()
    headers = {"Authorization": f"Bearer {project['api_key']}"}
    body = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    statuses = []
    remaining = []
    for i in range(8):
        server = first if i % 2 == 0 else second
        response = httpx.post(
            server.url + "/v1/chat/completions", json=body, headers=headers, timeout=10
        )
        statuses.append(response.status_code)
        remaining.append(response.headers.get("x-ratelimit-remaining-requests"))
    assert statuses == [200] * 4 + [429] * 4
    assert remaining == ["3", "2", "1", "0", "0", "0", "0", "0"]
