"""Text-to-image on the router's hf-inference route (raw image bytes back)."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from freeway.errors import ProviderUnavailable, UpstreamBadRequest
from freeway.providers import decode_image_request


def image_request(**fields):
    body = {"model": "black-forest-labs/FLUX.1-schnell", "prompt": "A red bicycle"}
    body.update(fields)
    return decode_image_request(json.dumps(body).encode())


async def test_image_is_generated_on_the_hf_inference_route(provider, router) -> None:
    result = await provider.images(image_request(size="1024x768"))

    [call] = router.requests
    assert str(call.url) == (
        "https://router.huggingface.co/hf-inference/models/black-forest-labs/FLUX.1-schnell"
    )
    assert call.headers["authorization"] == "Bearer hf_test"
    assert json.loads(call.content) == {
        "inputs": "A red bicycle",
        "parameters": {"width": 1024, "height": 768},
    }
    assert base64.b64decode(result.data[0].b64_json) == router.png()


async def test_n_images_and_url_format(provider, router) -> None:
    result = await provider.images(image_request(n=2, response_format="url"))

    assert len(router.requests) == 2
    assert [d.url.split(",")[0] for d in result.data] == ["data:image/png;base64"] * 2
    assert json.loads(router.requests[0].content) == {"inputs": "A red bicycle"}


async def test_client_parameters_pass_through(provider, router) -> None:
    await provider.images(
        image_request(size="512x512", parameters={"num_inference_steps": 4, "width": 640})
    )
    assert router.bodies()[0]["parameters"] == {
        "num_inference_steps": 4,
        "width": 640,
        "height": 512,
    }


async def test_hf_inference_suffix_is_accepted_other_providers_are_not(provider, router) -> None:
    await provider.images(image_request(model="black-forest-labs/FLUX.1-schnell:hf-inference"))
    assert router.requests[0].url.path.endswith("/models/black-forest-labs/FLUX.1-schnell")

    with pytest.raises(UpstreamBadRequest) as caught:
        await provider.images(image_request(model="black-forest-labs/FLUX.1-schnell:fal-ai"))
    assert "hf-inference" in caught.value.message
    assert caught.value.param == "model"
    assert len(router.requests) == 1


async def test_a_non_image_answer_is_retryable(provider, router) -> None:
    router.image = lambda r: httpx.Response(200, json={"generated_text": "not an image"})
    with pytest.raises(ProviderUnavailable) as caught:
        await provider.images(image_request())
    assert "instead of an image" in caught.value.message


async def test_model_loading_503_is_provider_unavailable(provider, router) -> None:
    router.image = lambda r: httpx.Response(
        503, json={"error": "Model is currently loading", "estimated_time": 20.0}
    )
    with pytest.raises(ProviderUnavailable) as caught:
        await provider.images(image_request())
    assert "currently loading" in caught.value.message
