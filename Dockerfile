FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md ./
COPY taptrail ./taptrail
COPY api ./api
COPY game ./game
COPY checkpoints ./checkpoints
COPY leaderboard ./leaderboard
COPY people ./people
COPY evaluation ./evaluation
RUN pip install --no-cache-dir . && useradd --system --home /app taptrail
USER taptrail
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"
# `serve` applies migrations before it starts serving.
CMD ["taptrail", "serve", "--host", "0.0.0.0", "--port", "8000"]
