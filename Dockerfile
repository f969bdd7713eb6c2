# The image of one service, chosen at build time:
#   docker build --build-arg SERVICE=product --build-arg PORT=3000 -t shop/product .
#   docker build --build-arg SERVICE=order --build-arg PORT=8080 -t shop/order .
#   docker build --build-arg SERVICE=bff --build-arg PORT=5000 -t shop/bff .
# (compose.yml passes both). Build context: the repository root (.dockerignore keeps out
# node_modules, tests, the testkit, the tools, the system tests and .git), so it builds the same
# from a clean clone. One file for every service, so a fix to the image is made once.
FROM oven/bun:1.4-slim AS build
ARG SERVICE
RUN test -n "$SERVICE" || { echo 'build with --build-arg SERVICE=<a workspace with src/main.ts>' >&2; exit 1; }
WORKDIR /app
# every workspace's manifest: bun.lock covers them all, and --frozen-lockfile checks it
COPY package.json bun.lock bunfig.toml tsconfig.json ./
# postgres.js with a one-line fix that package.json names (patchedDependencies); see docs/dependencies.md
COPY patches patches
COPY contracts/package.json contracts/
COPY kit/package.json kit/
COPY testkit/package.json testkit/
COPY product/package.json product/
COPY order/package.json order/
COPY bff/package.json bff/
COPY examples/notes/package.json examples/notes/
COPY tools/package.json tools/
COPY system-tests/package.json system-tests/
# production dependencies of the service and the workspaces it uses. Bun's isolated install puts
# them in node_modules/.bun and links them from a node_modules in each workspace (all copied
# below). elysia's optional peers typescript and @types/bun come along because the root has them
# as dev tools; they are types only, never imported at run time, so they go (with the links to them).
RUN bun install --frozen-lockfile --production --filter "@shop/$SERVICE" \
 && rm -rf node_modules/.bun/typescript@* node_modules/.bun/@types+* node_modules/.bun/bun-types@* node_modules/.bun/undici-types@* \
 && find node_modules contracts kit "$SERVICE" -xtype l -delete
COPY contracts contracts
COPY kit kit
COPY $SERVICE $SERVICE
# a service with a web page (the bff's storefront) builds it here with Bun's bundler
RUN if [ -f "$SERVICE/web/build.ts" ]; then bun "$SERVICE/web/build.ts"; fi

FROM oven/bun:1.4-slim
ARG SERVICE
# the port the service listens on (its PORT default): the health check and EXPOSE need it
ARG PORT
WORKDIR /app
COPY --from=build /app/package.json /app/tsconfig.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/contracts contracts
COPY --from=build /app/kit kit
COPY --from=build /app/$SERVICE $SERVICE
RUN test -n "$PORT" || { echo 'build with --build-arg PORT=<the service port>' >&2; exit 1; }
ENV NODE_ENV=production SERVICE=$SERVICE PORT=$PORT
USER bun
EXPOSE $PORT
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=5 \
  CMD ["bun", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/ready`).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# exec: bun is PID 1 and gets SIGTERM itself (the bounded shutdown)
CMD ["sh", "-c", "exec bun \"$SERVICE/src/main.ts\""]
