# One image for every pathwatch role (server, worker, demo shop); docker-compose.yml picks
# the role with the command. Chromium and tcpdump come from Debian, as on a bare host.
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium tcpdump iputils-ping ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
ENV NODE_ENV=production
ENTRYPOINT ["node", "bin/pathwatch.js"]
CMD ["--help"]
