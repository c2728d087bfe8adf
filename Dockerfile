# The CCG Order Tracker as a small, non-root image: one static binary with
# its migrations, reference data and web assets embedded.

# 1. The NHS.UK design system from npm.
FROM node:20-bookworm-slim AS assets
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error \
 && mkdir -p /vendor/assets \
 && cp node_modules/nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.css node_modules/nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.js /vendor/ \
 && cp -r node_modules/nhsuk-frontend/dist/nhsuk/assets/images /vendor/assets/

# 2. The binary. templ's generated Go is committed, so no generate step.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
COPY --from=assets /vendor ./web/static/vendor
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/tracker ./cmd/tracker

# 3. Runtime: no shell, no package manager, not root.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/tracker /tracker
USER nonroot:nonroot
ENV ADDR=:8080
EXPOSE 8080
ENTRYPOINT ["/tracker"]
CMD ["serve"]
