# One image for every process: the ingest API, the gateway sandbox, Dagster's webserver and daemon,
# and the `settle` CLI. Dependencies come from the same lock file `make` installs.
FROM python:3.11-slim

# PROMETHEUS_MULTIPROC_DIR: where the API's workers keep their metric samples, so /metrics adds up
# every worker. Container-local, not on the /data volume the services share: each API container
# counts its own workers. `settle api` empties it at start. Only the API uses prometheus_client.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DATA_DIR=/data \
    DAGSTER_HOME=/data/dagster_home \
    PROMETHEUS_MULTIPROC_DIR=/tmp/settle-api-metrics

WORKDIR /app
COPY requirements.lock pyproject.toml ./
RUN pip install --no-cache-dir --disable-pip-version-check -r requirements.lock
COPY . .
RUN pip install --no-cache-dir --disable-pip-version-check --no-deps -e . \
    && useradd --system --create-home settle \
    && mkdir -p /data && chown settle /data

USER settle
EXPOSE 8000 8090 3000
CMD ["settle", "api", "--host", "0.0.0.0", "--workers", "2"]
