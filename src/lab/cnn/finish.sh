#!/usr/bin/env bash
# Turns a finished run into the committed model: export (ONNX + tfjs + training.json + curve), the equivalence and
# speed check on real test faces (export-check*.json), then, once, the FER+ PublicTest figures (test-report.json).
# Usage: bash src/lab/cnn/finish.sh RUN_DIR [MODEL_DIR=models/emotion-cnn]
set -euo pipefail
run=$(realpath "${1:?usage: finish.sh RUN_DIR [MODEL_DIR]}")
cd "$(dirname "$0")/../../.."
out=${2:-models/emotion-cnn}
py=/usr/bin/python3
$py src/lab/cnn/export.py "$run/best.pt" --out "$out"
$py src/lab/cnn/check_export.py "$run/best.pt" --out "$run/reference.json"
node src/lab/cnn/check_export.mjs "$out" "$run/reference.json" --bench > "$out/export-check.json"
node src/lab/cnn/check_export.mjs "$out" "$run/reference.json" --backend wasm > "$out/export-check-wasm.json"
$py src/lab/cnn/evaluate.py "$run/best.pt" > "$out/test-report.json"
cat "$out/export-check.json" "$out/export-check-wasm.json" "$out/test-report.json"
