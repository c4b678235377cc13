# MassGen as a service: `massgen serve` with every first-party plugin.
#
#   docker build -t massgen .
#   docker run --rm -p 8765:8765 -e MASSGEN_API_TOKEN=$(openssl rand -hex 32) \
#       -e OPENAI_API_KEY -v "$PWD/team.yaml:/config/team.yaml:ro" -v massgen-data:/data massgen
#
# The server listens on 0.0.0.0 inside the container, so it requires MASSGEN_API_TOKEN (it
# refuses to start without one). Conversations are recorded under /data (a volume). See
# docs/deployment.md for systemd, a reverse proxy and several workers.
FROM python:3.11-slim

RUN useradd --system --create-home --home-dir /home/massgen massgen \
    && mkdir -p /data /config && chown massgen /data
WORKDIR /src
COPY pyproject.toml README.md ./
COPY massgen_core ./massgen_core
COPY plugins ./plugins
# One pip command, so the plugins' dependency on massgen-core is met by this checkout.
RUN pip install --no-cache-dir . plugins/*/ \
    && rm -rf /src
WORKDIR /home/massgen
USER massgen
ENV MASSGEN_HOME=/data PYTHONUNBUFFERED=1
EXPOSE 8765
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8765/health').status != 200)"
ENTRYPOINT ["massgen", "serve", "--host", "0.0.0.0", "--port", "8765"]
CMD ["--config", "/config/team.yaml"]
