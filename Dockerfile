# StoryBot on Telegram: `docker build -t storybot . && docker run -e STORYBOT_TELEGRAM_TOKEN=... storybot`
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

RUN useradd --create-home --uid 10001 storybot

# Dependencies in a layer of their own, exactly as pinned (with hashes) in requirements.lock; the command
# that regenerates it is at its top. A change to the code reuses this layer; only a new lock rebuilds it.
COPY requirements.lock /tmp/requirements.lock
RUN pip install --no-deps --require-hashes -r /tmp/requirements.lock && rm /tmp/requirements.lock

COPY docker/healthcheck.py /usr/local/lib/storybot/healthcheck.py

# The code, the bundled story (package data) included; wordllama's model is inside its wheel, above,
# so the image answers offline. `pip check` fails the build if the lock no longer covers pyproject.toml.
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY retrieval ./retrieval
COPY config ./config
RUN pip install --no-deps . && pip check && rm -rf /app/*

USER storybot
WORKDIR /home/storybot
# The bundled story's index, built now and kept in the image: a container answers from its first second. For an
# archive mounted at run time, run `storybot index` once against the same STORYBOT_CORPUS and STORYBOT_CACHE_DIR.
RUN storybot index
# Webhook mode listens here when STORYBOT_WEBHOOK_URL is set; polling needs no port.
EXPOSE 8443
# Alive: a storybot process runs; in webhook mode, also STORYBOT_WEBHOOK_PORT accepts a connection.
HEALTHCHECK --interval=30s --timeout=10s --start-period=90s --retries=3 \
    CMD ["python", "/usr/local/lib/storybot/healthcheck.py"]
CMD ["storybot", "run"]
