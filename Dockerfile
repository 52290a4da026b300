# Innovation Atlas: the API on its embedded SQLite database, loaded from the seeds at start.
# Two stages: the first builds the wheel users install (seeds, migrations and static files
# inside it), the second installs it on the pinned dependencies, so the image runs the
# package, not a copy of the checkout.
# The base image is pinned by digest, so a rebuild gets the bytes that were tested, not
# whatever the tag points at that day. The digest is python:3.11.10-slim-bookworm's as
# recorded by a public repository that tracks the official images' digests (it could not
# be pulled from here to check); confirm with
# `docker buildx imagetools inspect python:3.11.10-slim-bookworm` and move it forward
# deliberately (Renovate or Dependabot can propose each update).
FROM python:3.11.10-slim-bookworm@sha256:5148c0e4bbb64271bca1d3322360ebf4bfb7564507ae32dd639322e4952a6b16 AS wheel

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src

# The build backend at the version requirements-build.lock pins, checked against its hash;
# the build then runs without an isolated environment, so it downloads nothing else.
COPY requirements-build.lock ./
RUN pip install --no-cache-dir --no-deps --require-hashes -r requirements-build.lock

COPY pyproject.toml setup.py MANIFEST.in README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
COPY seeds ./seeds
RUN pip wheel --no-cache-dir --no-deps --no-build-isolation --wheel-dir /dist .

FROM python:3.11.10-slim-bookworm@sha256:5148c0e4bbb64271bca1d3322360ebf4bfb7564507ae32dd639322e4952a6b16

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ATLAS_DATA_DIR=/var/lib/atlas

# Dependencies first, so code changes do not reinstall them: the versions requirements.lock
# pins, each checked against its hash (the ones `make` installs and the tests ran), then the
# wheel without resolving anything again; `pip check` fails the build if the wheel asks
# for anything the lock did not install.
WORKDIR /tmp/install
COPY requirements.lock ./
RUN pip install --no-cache-dir --no-deps --require-hashes -r requirements.lock
COPY --from=wheel /dist/ ./dist/
RUN pip install --no-cache-dir --no-deps dist/*.whl \
    && pip check \
    && rm -rf /tmp/install

# The database and generated files go to ATLAS_DATA_DIR, the only place the user may write.
RUN useradd --system --uid 10001 --home-dir /var/lib/atlas --create-home \
        --shell /usr/sbin/nologin atlas
WORKDIR /var/lib/atlas
USER 10001

EXPOSE 8000
# Readiness (the data can be read), not just liveness: see the README's health section.
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2)"]

# The same two steps as `make run`: load the seeds, then serve.
CMD ["sh", "-c", "atlas load && exec atlas serve --host 0.0.0.0 --port 8000"]
