"""Provider protocol, OpenAI wire structs, shared SSE parsing and the generic adapter.

This is a public module: plugins import from here.
"""

from freeway.providers.base import Provider
from freeway.providers.openai_compatible import OpenAICompatibleProvider
from freeway.providers.types import (
    ChatChunk,
    ChatMessage,
    ChatRequest,
    ChatResponse,
    Choice,
    ChunkChoice,
    Delta,
    ImageData,
    ImageRequest,
    ImageResponse,
    Model,
    StreamOptions,
    Usage,
    decode_chat_request,
    decode_image_request,
    encode,
    make_model,
    to_dict,
)

__all__ = [
    "ChatChunk",
    "ChatMessage",
    "ChatRequest",
    "ChatResponse",
    "Choice",
    "ChunkChoice",
    "Delta",
    "ImageData",
    "ImageRequest",
    "ImageResponse",
    "Model",
    "OpenAICompatibleProvider",
    "Provider",
    "StreamOptions",
    "Usage",
    "decode_chat_request",
    "decode_image_request",
    "encode",
    "make_model",
    "to_dict",
]
