#!/usr/bin/env bash
# Builds the real peers the relay's tests talk to (an OpenTelemetry Collector and Jaeger, both from
# pinned Go modules under otlp-client/tools/) and prints `export NAME=path` lines for them.
# Usage: eval "$(otlp-client/scripts/peers.sh)"   or   otlp-client/scripts/peers.sh otelcol
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../../scripts/lib.sh
source "$here/../../scripts/lib.sh"
tools="$here/../tools"

OTELCOL_VERSION=0.165.0
JAEGER_VERSION=1.76.0
# telemetrygen is a standalone tool; v0.161.0 is the newest the module proxy serves here.
TELEMETRYGEN_VERSION=0.161.0

want="${*:-otelcol jaeger}"
command -v go >/dev/null || die "go is not installed; the relay's peers are built from Go modules"
for peer in $want; do
  case "$peer" in
    otelcol)
      bin=$(go_tool otelcol "$OTELCOL_VERSION" "$tools/otelcol" .)
      printf 'export OTELCOL_BIN=%q\n' "$bin" ;;
    jaeger)
      bin=$(go_tool jaeger "$JAEGER_VERSION" "$tools/jaeger" github.com/jaegertracing/jaeger/cmd/jaeger)
      printf 'export JAEGER_BIN=%q\n' "$bin" ;;
    telemetrygen)
      bin=$(go_tool telemetrygen "$TELEMETRYGEN_VERSION" "$tools/telemetrygen" github.com/open-telemetry/opentelemetry-collector-contrib/cmd/telemetrygen)
      printf 'export TELEMETRYGEN_BIN=%q\n' "$bin" ;;
    *) die "unknown peer $peer (known: otelcol jaeger telemetrygen)" ;;
  esac
done
