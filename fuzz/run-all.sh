#!/usr/bin/env bash
# Runs every fuzz target for FUZZ_SECONDS (default 60), seeded with the hostile-input corpus.
# Stable Rust only: RUSTC_BOOTSTRAP=1 unlocks the -Z flags cargo-fuzz passes to rustc.
set -euo pipefail
cd "$(dirname "$0")"
secs="${FUZZ_SECONDS:-60}"
seed() { mkdir -p "corpus/$1"; shift; for d in "$@"; do cp -n ../tests/data/hostile/"$d"/* "corpus/${target}/" 2>/dev/null || true; done; }
for target in wechat_xml wechat_decrypt webhook_json classifier; do
  case "$target" in
    wechat_xml) seed "$target" xml ;;
    wechat_decrypt) seed "$target" xml ;;
    webhook_json) seed "$target" json ;;
    classifier) seed "$target" texts ;;
  esac
  echo "== $target (${secs} s)"
  RUSTC_BOOTSTRAP=1 cargo fuzz run -s none -O "$target" -- -max_total_time="$secs" -max_len=65536 -print_final_stats=1 2>&1 \
    | grep -E "^(#[0-9]+.*DONE|stat::|==[0-9]+==|SUMMARY|Test unit written|thread .* panicked)" || true
done
