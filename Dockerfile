# Innovation Atlas: the API on its embedded SQLite database, loaded from the seeds at start.
# The base image is pinned by digest, so a rebuild gets the bytes that were tested, not
# whatever the tag points at that day. The digest is python:3.11.10-slim-bookworm's as
# recorded by a public repository that tracks the official images' digests (it could not
# be pulled from here to check); confirm with
# `docker buildx imagetools inspect python:3.11.10-slim-bookworm` and move it forward
# deliberately (Renovate or Dependabot can propose each update).
FROM python:3.11.10-slim-bookworm@sha256:5148c0e4bbb64271bca1d3322360ebf4bfb7564507ae32dd639322e4952a6b16

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATABASE_URL=sqlite:////app/var/atlas.db

WORKDIR /app

# Dependencies first, so code changes do not reinstall them: the versions requirements.lock
# pins, each checked against its hash (the ones `make` installs and the tests ran), then the
# project itself without resolving anything again.
COPY pyproject.toml README.md requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock \
    && mkdir app && touch app/__init__.py \
    && pip install --no-cache-dir --no-deps -e . \
    && rm -rf app

COPY alembic.ini ./
COPY app ./app
COPY migrations ./migrations
COPY seeds ./seeds

RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin atlas \
    && mkdir -p /app/var \
    && chown atlas /app/var
USER 10001

EXPOSE 8000
# Readiness (the data can be read), not just liveness: see the README's health section.
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2)"]

# The same two steps as `make run`: load the seeds, then serve.
CMD ["sh", "-c", "atlas load && exec atlas serve --host 0.0.0.0 --port 8000"]
