# The SFU on Debian bookworm and Node 20. The image is built by the same scripts that CI and
# `npm start` run (scripts/setup.sh): apt packages, npm dependencies, the patched mediasoup worker.
FROM node:20-bookworm-slim

WORKDIR /app
COPY . .
# Installs build tools and coturn, builds the worker (cached per version and patches), transpiles the server.
RUN bash scripts/setup.sh turn \
 && rm -rf /var/lib/apt/lists/* /root/.cache/classroom-sfu/src \
 && chown -R node:node /app

USER node
# Inside a container the server must bind every interface; the RTC announced address is the host's
# public IP and has no safe default: pass SFU_ANNOUNCED_ADDRESS (run with --network host, or map
# the ports below 1:1). Bound beyond loopback, the server refuses to start without SFU_JWT_SECRET:
# the image never hands out development tokens unless SFU_DEV_TOKENS=true is passed.
ENV NODE_ENV=production \
    SFU_HTTP_HOST=0.0.0.0 \
    SFU_RTC_LISTEN_IP=0.0.0.0
# HTTP, then one UDP and one TCP port per worker (40000 + worker index; 16 workers shown).
EXPOSE 3000
EXPOSE 40000-40015/udp
EXPOSE 40000-40015/tcp
HEALTHCHECK --interval=30s --timeout=5s CMD node -e "fetch('http://127.0.0.1:'+(process.env.SFU_HTTP_PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/server/main.js"]
