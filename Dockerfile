# The registry's image: gunicorn serving wsgi:app (web), or `flask --app wsgi scheduler run`
# (scheduler), or `flask --app wsgi db upgrade` (the one-shot migration); docs/operations.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    REGISTRY_ENV=production \
    PROMETHEUS_MULTIPROC_DIR=/tmp/registry-metrics

WORKDIR /app
COPY pyproject.toml README.md ./
COPY registry ./registry
RUN pip install --no-compile . \
    && pybabel compile -d registry/translations \
    && pip install --no-compile --force-reinstall --no-deps .
COPY wsgi.py gunicorn.conf.py babel.cfg ./
COPY migrations ./migrations

# No root at run time: the app writes only to its instance folder and the metrics directory.
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin registry \
    && mkdir -p /app/instance /tmp/registry-metrics \
    && chown -R registry:registry /app/instance /tmp/registry-metrics
USER registry

EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"
CMD ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
