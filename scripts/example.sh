#!/bin/sh
# example.sh - reproduces the bundled example from its data (make example):
# the CPT adapter (adapters/cpt) on data/corpus, the SFT adapter
# (adapters/sft) on the approved pairs of data/qa.jsonl plus data/golden.jsonl,
# continuing the CPT adapter, and the stage benchmark (adapters/bench.md and
# adapters/bench.json).  Settings: infuse.yaml's train section.
set -eu
cd "$(dirname "$0")/.."
make -s all
if [ ! -f models/base/config.json ]; then
    echo "example: models/base is missing; make base-model builds it (hours)" >&2
    exit 1
fi
./infuse train cpt
./infuse train sft
./infuse bench --json adapters/bench.json --markdown adapters/bench.md
