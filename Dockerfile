# StoryBot on Telegram: `docker build -t storybot . && docker run -e STORYBOT_TELEGRAM_TOKEN=... storybot`
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 storybot
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY retrieval ./retrieval
COPY config ./config
RUN pip install . && rm -rf /app/*

USER storybot
WORKDIR /home/storybot
# Webhook mode listens here when STORYBOT_WEBHOOK_URL is set; polling needs no port.
EXPOSE 8443
CMD ["storybot", "run"]
