# syntax=docker/dockerfile:1
# Multi-stage build: uv resolves the locked workspace into /app/.venv in the builder;
# the runtime image carries only the venv and runs as an unprivileged user.
FROM python:3.11-slim AS builder
COPY --from=ghcr.io/astral-sh/uv:0.13 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
WORKDIR /app
COPY pyproject.toml uv.lock ./
COPY core core
COPY plugins plugins
COPY panel panel
RUN uv sync --frozen --no-dev --all-packages --no-editable

FROM python:3.11-slim AS runtime
RUN groupadd --system freeway && useradd --system --gid freeway --home /app freeway \
    && mkdir -p /data && chown freeway:freeway /data
COPY --from=builder --chown=freeway:freeway /app/.venv /app/.venv
ENV PATH="/app/.venv/bin:$PATH" \
    FREEWAY_DATA_DIR=/data \
    FREEWAY_ENV=production \
    PORT=8080 \
    PYTHONUNBUFFERED=1
WORKDIR /app
USER freeway
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import os,urllib.request;urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT','8080'), timeout=2)" || exit 1
CMD ["freeway", "serve"]
