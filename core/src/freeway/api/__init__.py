"""HTTP API: Litestar controllers, one module per area, and the OpenAI error envelope."""

from __future__ import annotations

from typing import Any


def core_route_handlers() -> list[Any]:
    """Route handlers of the core API (registered through the ``core`` plugin)."""
    from freeway.api.analytics import AnalyticsController
    from freeway.api.auth import AUTH_HANDLERS
    from freeway.api.chat import chat_completions
    from freeway.api.client_models import list_models, retrieve_model
    from freeway.api.docs import api_reference, docs_assets
    from freeway.api.health import health, ready
    from freeway.api.images import image_generations
    from freeway.api.jobs import list_jobs, run_job_now
    from freeway.api.models import (
        delete_model_selection,
        model_for_category,
        models_in_category,
        models_status,
        put_model_selection,
    )
    from freeway.api.projects import ProjectController
    from freeway.api.users import UserController
    from freeway.jobs.web import jobs_dashboard

    return [
        health,
        ready,
        chat_completions,
        image_generations,
        list_models,
        retrieve_model,
        api_reference,
        docs_assets,
        AnalyticsController,
        *AUTH_HANDLERS,
        ProjectController,
        UserController,
        model_for_category,
        models_in_category,
        put_model_selection,
        delete_model_selection,
        models_status,
        list_jobs,
        run_job_now,
        jobs_dashboard,
    ]
