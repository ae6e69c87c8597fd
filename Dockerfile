# syntax=docker/dockerfile:1.12
# One Dockerfile for the AuditFlow service images. The service is a build argument and
# the final stage of the same name sets what differs (ports, labels):
#   docker buildx build --build-arg SERVICE=audit-log-analysis --target audit-log-analysis \
#     --platform linux/amd64,linux/arm64 .
#   docker buildx bake            # all four, from docker-bake.hcl
# Build from the repository root, because every service imports the src/common workspace.
# Every stage uses the same Node 24 LTS slim base, pinned by digest, so the build and runtime
# Node versions can never drift apart. NODE_IMAGE may point the build at another copy of that
# base (an air-gapped mirror, or the debootstrap-made stand-in of scripts/build-base-image.sh
# that the tests build with); the pinned digest stays the default.
ARG SERVICE=audit-log-analysis
ARG NODE_IMAGE=docker.io/library/node:24-bookworm-slim@sha256:6f7b03f7c2c8e2e784dcf9295400527b9b1270fd37b7e9a7285cf83b6951452d

# TypeScript compiles to architecture-neutral JavaScript, so this stage runs natively on the
# build host instead of under QEMU, which keeps arm64 builds fast.
FROM --platform=$BUILDPLATFORM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc tsconfig.base.json tsconfig.build.json ./
# Every workspace manifest is copied, so this layer and the npm ci below are identical for
# all four services and BuildKit builds them once.
COPY src/common/package.json src/common/tsconfig.json src/common/
COPY src/audit-event-generator/package.json src/audit-event-generator/tsconfig.json src/audit-event-generator/
COPY src/audit-log-analysis/package.json src/audit-log-analysis/tsconfig.json src/audit-log-analysis/
COPY src/notification-service/package.json src/notification-service/tsconfig.json src/notification-service/
COPY src/event-audit-dashboard/package.json src/event-audit-dashboard/tsconfig.json src/event-audit-dashboard/
COPY src/audit-ingest/package.json src/audit-ingest/tsconfig.json src/audit-ingest/
COPY src/auditflow/package.json src/auditflow/tsconfig.json src/auditflow/
# No lifecycle scripts: the root devDependency "node" would otherwise download a second Node
# binary, and no dependency needs a build step.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --ignore-scripts --no-audit --no-fund
# SERVICE is declared only now: a build argument is part of the cache key of every later RUN,
# and the install above is the same for all services.
ARG SERVICE
# Whole workspace folders, because runtime assets (schemas, rules, migrations, static files)
# live beside src/; .dockerignore keeps tests, benchmarks and local build output out.
COPY src/common/ src/common/
COPY src/${SERVICE}/ src/${SERVICE}/
# After compiling, drop what only the compiler needs, so the runtime stage can copy the
# workspace folders whole and pick up every asset (including non-TypeScript files that sit
# in src/) without listing them. The Lua scripts are bundled into the compiled code.
RUN node_modules/.bin/tsc -b "src/$SERVICE" \
 && rm -rf src/common/node_modules "src/$SERVICE/node_modules" \
 && find src/common "src/$SERVICE" \( -name '*.ts' ! -name '*.d.ts' -o -name tsconfig.json -o -name '*.tsbuildinfo' \) -delete \
 && find src/common "src/$SERVICE" -type d -empty -delete

# Production dependencies are resolved on the target platform so that any architecture
# specific package would match the image it ends up in.
FROM ${NODE_IMAGE} AS deps
ARG SERVICE
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY src/common/package.json src/common/
COPY src/${SERVICE}/package.json src/${SERVICE}/
# The analysis' enrichment databases (docs/enrichment.md) ship as npm packages; only the files
# it reads are kept: the ASN ranges in dotted form (not the numeric copies) and the combined
# IPv4+IPv6 country database (not the per-family copies). About 40 MB instead of 80 MB.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund --workspace "src/$SERVICE" \
 && rm -f node_modules/@ip-location-db/asn/*-num.csv \
          node_modules/@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country-ipv4.mmdb \
          node_modules/@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country-ipv6.mmdb

FROM ${NODE_IMAGE} AS runtime
ARG SERVICE
LABEL org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production
# Everything stays owned by root and read-only for the service user, so a compromised process
# cannot rewrite its own code and the container runs with readOnlyRootFilesystem.
COPY --from=deps /app /app
COPY --from=build /app/src/common /app/src/common
COPY --from=build /app/src/${SERVICE} /app/src/${SERVICE}
WORKDIR /app/src/${SERVICE}
# The numeric uid/gid of the base image's "node" user: Kubernetes can only verify
# runAsNonRoot against a numeric USER.
USER 1000:1000
# Exec form with node itself as the entrypoint (replacing the base image's shell wrapper) keeps
# node as PID 1, so SIGTERM reaches the service's drain handler directly instead of a shell or
# npm. CMD stays overridable through a pod's `args:`.
STOPSIGNAL SIGTERM
# No heap flags here: every service sizes its heap, semi-spaces and MALLOC_ARENA_MAX from the
# cgroup limit it finds (src/common/src/memory), the same under npm start, --only and this image.
ENTRYPOINT ["node"]
CMD ["dist/main.js"]

# What differs per service. Each target is built with the matching SERVICE.
FROM runtime AS audit-event-generator
LABEL org.opencontainers.image.title="audit-event-generator" \
      org.opencontainers.image.description="AuditFlow synthetic audit-event producer"
ENV NODE_OPTIONS=--enable-source-maps \
    APP_PORT=5000 \
    PROMETHEUS_PORT=8000
EXPOSE 5000 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.APP_PORT + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

FROM runtime AS audit-log-analysis
LABEL org.opencontainers.image.title="audit-log-analysis" \
      org.opencontainers.image.description="AuditFlow correlation and alerting engine"
ENV NODE_OPTIONS=--enable-source-maps \
    APP_PORT=5001 \
    PROMETHEUS_PORT=8001
EXPOSE 5001 8001
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.APP_PORT + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

FROM runtime AS notification-service
LABEL org.opencontainers.image.title="notification-service" \
      org.opencontainers.image.description="AuditFlow alert store and REST API"
ENV NODE_OPTIONS=--enable-source-maps \
    API_PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.API_PORT + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

FROM runtime AS event-audit-dashboard
LABEL org.opencontainers.image.title="event-audit-dashboard" \
      org.opencontainers.image.description="AuditFlow web dashboard"
ENV NODE_OPTIONS=--enable-source-maps \
    APP_PORT=8080
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.APP_PORT + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

FROM runtime AS audit-ingest
LABEL org.opencontainers.image.title="audit-ingest" \
      org.opencontainers.image.description="AuditFlow ingest of real audit records: K8s audit webhook, syslog, journald"
ENV NODE_OPTIONS=--enable-source-maps \
    APP_PORT=5002 \
    PROMETHEUS_PORT=8002 \
    SYSLOG_PORT=5514
EXPOSE 5002 8002 5514/tcp 5514/udp
# A TCP connect, since the app port may serve HTTPS with the cluster's certificate.
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD ["node", "-e", "require('node:net').connect(Number(process.env.APP_PORT), '127.0.0.1').on('connect', () => process.exit(0)).on('error', () => process.exit(1))"]
