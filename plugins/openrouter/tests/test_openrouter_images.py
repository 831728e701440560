"""Image generation through chat: ``modalities`` out, ``message.images`` back."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from freeway.errors import ProviderUnavailable, UpstreamBadRequest
from freeway.providers import decode_image_request
from freeway_provider_openrouter.provider import aspect_ratio

PNG_HEADER = b"\x89PNG\r\n\x1a\n"


def image_request(**fields):
    body = {"model": "google/gemini-2.5-flash-image", "prompt": "A red bicycle"}
    body.update(fields)
    return decode_image_request(json.dumps(body).encode())


async def test_images_are_generated_through_chat_with_modalities(provider, upstream) -> None:
    upstream.chat = "image_response.json"
    result = await provider.images(image_request())

    sent = upstream.bodies()[0]
    assert upstream.requests[0].url.path.endswith("/chat/completions")
    assert sent["modalities"] == ["image", "text"]
    assert sent["messages"] == [{"role": "user", "content": "A red bicycle"}]
    assert sent["model"] == "google/gemini-2.5-flash-image"
    # message.content is "" while message.images holds the picture.
    [image] = result.data
    assert base64.b64decode(image.b64_json).startswith(PNG_HEADER)
    assert image.url is None
    assert result.usage == {"input_tokens": 9, "output_tokens": 1290, "total_tokens": 1299}


async def test_response_format_url_returns_the_data_url(provider, upstream) -> None:
    upstream.chat = "image_response.json"
    result = await provider.images(image_request(response_format="url"))
    assert result.data[0].url.startswith("data:image/png;base64,")


async def test_n_images_make_n_chat_calls(provider, upstream) -> None:
    upstream.chat = "image_response.json"
    result = await provider.images(image_request(n=3))
    assert len(result.data) == 3
    assert len(upstream.bodies()) == 3
    assert result.usage["output_tokens"] == 3 * 1290


@pytest.mark.parametrize(
    ("size", "config"),
    [
        ("1024x1024", {"aspect_ratio": "1:1"}),
        ("1920x1080", {"aspect_ratio": "16:9"}),
        ("1792x1024", None),
    ],
)
async def test_size_becomes_an_aspect_ratio_when_openrouter_knows_it(
    provider, upstream, size, config
) -> None:
    upstream.chat = "image_response.json"
    await provider.images(image_request(size=size))
    assert upstream.bodies()[0].get("image_config") == config


async def test_client_modalities_and_image_config_win(provider, upstream) -> None:
    upstream.chat = "image_response.json"
    await provider.images(
        image_request(
            model="black-forest-labs/flux.2-pro",
            size="1024x1024",
            modalities=["image"],
            image_config={"aspect_ratio": "21:9"},
        )
    )
    sent = upstream.bodies()[0]
    assert sent["modalities"] == ["image"]
    assert sent["image_config"] == {"aspect_ratio": "21:9"}


async def test_text_only_answer_is_a_clear_bad_request(provider, upstream) -> None:
    data = upstream.json("image_response.json")
    data["choices"][0]["message"] = {"role": "assistant", "content": "I cannot draw that."}
    upstream.chat = lambda r: httpx.Response(200, json=data)

    with pytest.raises(UpstreamBadRequest) as caught:
        await provider.images(image_request())
    assert "answered without an image" in caught.value.message
    assert "I cannot draw that." in caught.value.message


async def test_answer_without_anything_is_retryable(provider, upstream) -> None:
    data = upstream.json("image_response.json")
    data["choices"][0]["message"] = {"role": "assistant", "content": "", "images": []}
    data["choices"][0]["finish_reason"] = "stop"
    upstream.chat = lambda r: httpx.Response(200, json=data)

    with pytest.raises(ProviderUnavailable):
        await provider.images(image_request())


def test_aspect_ratio_only_names_supported_ratios() -> None:
    assert aspect_ratio("1024x1024") == "1:1"
    assert aspect_ratio("1024x1792") is None  # 4:7 is not one OpenRouter accepts
    assert aspect_ratio("768x1344") is None
    assert aspect_ratio("1080x1920") == "9:16"
    assert aspect_ratio("auto") is None
    assert aspect_ratio("0x10") is None
