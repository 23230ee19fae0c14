# Production image: gunicorn web, Celery worker and beat all run from it.
FROM node:20-bookworm-slim AS frontend
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
# WeasyPrint's system libraries (Pango, HarfBuzz via Pango) and fonts for PDFs.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
      libharfbuzz-subset0 fonts-dejavu-core fonts-liberation2 gettext \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 10001 portal \
 && install -d -o portal -g portal /var/lib/portal
WORKDIR /app
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock
COPY --chown=portal:portal . .
COPY --from=frontend --chown=portal:portal /build/node_modules ./node_modules
RUN DJANGO_SECRET_KEY=build-only DJANGO_DEBUG=false python manage.py collectstatic --noinput \
 && DJANGO_SECRET_KEY=build-only DJANGO_DEBUG=true python manage.py compilemessages -v 0 || true
USER portal
EXPOSE 8000
CMD ["gunicorn", "thueringen_portal.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60", "--access-logfile", "-", "--logger-class", "thueringen_portal.gunicorn_logging.PortalGunicornLogger"]
