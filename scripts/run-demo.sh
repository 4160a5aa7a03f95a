#!/usr/bin/env bash
# Runs guanjia with the demo account of config/default.toml on 127.0.0.1:8080.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-services.sh
scripts/ensure-encoder.sh
exec cargo run --release -- serve
