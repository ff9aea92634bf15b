FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY kernel ./kernel
COPY taptrail ./taptrail
COPY api ./api
COPY game ./game
COPY checkpoints ./checkpoints
COPY leaderboard ./leaderboard
COPY people ./people
COPY evaluation ./evaluation
RUN pip install --no-cache-dir . \
    && useradd --system --uid 10001 --home-dir /data taptrail \
    && mkdir -p /data/games /data/imports /data/exports \
    && chown -R taptrail:taptrail /data
# /data is the working directory of every `taptrail` command: game files are read from
# /data/games, reference data from /data/imports, and exports are written to /data/exports.
WORKDIR /data
ENV TAPTRAIL_SECRET_KEY_FILE=/data/taptrail.key
USER taptrail
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"
# `serve` applies migrations before it starts serving.
CMD ["taptrail", "serve", "--host", "0.0.0.0", "--port", "8000"]
