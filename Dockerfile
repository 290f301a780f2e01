# The ENT activation bot in a container: `run_bot.py run` as a non-root user, with the database,
# the server key and the school file in the /data volume (README « Conteneur »).
#   docker build -t ent-activation-bot .
#   docker build --build-arg WITH_LDAP=true -t ent-activation-bot .   # DIRECTORY=ldap
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The pinned run-time dependencies, checked against their hashes (requirements.lock); the
# project itself is not installed: run_bot.py runs from its folder.
WORKDIR /app
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

# python-ldap (not in the lock: it builds from source) only for DIRECTORY=ldap. gcc goes
# once it is built; the headers' packages stay (they keep libldap and libsasl2, which it links
# to, from being removed as unneeded).
ARG WITH_LDAP=false
# hadolint ignore=DL3008
RUN if [ "$WITH_LDAP" = "true" ]; then \
      apt-get update \
      && apt-get install -y --no-install-recommends gcc libc6-dev libldap2-dev libsasl2-dev \
      && pip install "python-ldap==3.4.8" \
      && apt-get purge -y --auto-remove gcc \
      && rm -rf /var/lib/apt/lists/*; \
    fi

COPY run_bot.py ./
COPY bot ./bot
COPY conversations ./conversations
COPY storage ./storage
COPY config ./config

# A dedicated user without a login; /data is its own (0700): database, key, school file, .env.
RUN groupadd --system --gid 10001 entbot \
    && useradd --system --uid 10001 --gid entbot --home-dir /data --shell /usr/sbin/nologin entbot \
    && mkdir -p /data \
    && chown entbot:entbot /data \
    && chmod 0700 /data

# Relative paths start from ENT_BOT_HOME, as in any installation: the database
# /data/data/ent-bot.sqlite3 and the server key /data/data/server-secret.key (folder 0700),
# the school file /data/config/school.toml (`run_bot.py init` creates all three), and
# /data/.env if present. /healthz listens on every interface of the container (publish it to
# the host's loopback only).
ENV ENT_BOT_HOME=/data \
    OPS_HOST=0.0.0.0 \
    OPS_PORT=8090

VOLUME ["/data"]
USER 10001:10001
EXPOSE 8090

# No curl in the image: Python asks /healthz (200 healthy, 503 or no answer unhealthy).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('OPS_PORT', '8090'), timeout=4).status == 200 else 1)"]

CMD ["python", "run_bot.py", "run"]
