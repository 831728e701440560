"""``/docs``: the Scalar API reference, served with vendored assets (no CDN)."""

from __future__ import annotations

from pathlib import Path

from litestar import MediaType, get
from litestar.static_files import create_static_files_router

STATIC = Path(__file__).with_name("static")

DOCS_HTML = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Freeway API reference</title>
</head>
<body>
  <noscript>The API reference needs JavaScript; the schema is at /schema/openapi.json.</noscript>
  <script id="api-reference" data-url="/schema/openapi.json"
    data-configuration='{"withDefaultFonts": false, "hideClientButton": true}'></script>
  <script src="/docs/assets/standalone.js"></script>
</body>
</html>
"""


@get("/docs", media_type=MediaType.HTML, include_in_schema=False, sync_to_thread=False)
def api_reference() -> str:
    """The interactive API reference."""
    return DOCS_HTML


docs_assets = create_static_files_router(
    path="/docs/assets", directories=[STATIC / "scalar"], include_in_schema=False
)
