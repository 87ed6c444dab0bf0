#!/bin/sh
# base-model.sh - makes models/base from nothing but Debian's dictionaries.
#
#   1. the corpus (make corpus): definition text and templated Q&A from
#      dict-vera, dict-foldoc, dict-jargon and dict-wn, in build/corpus/;
#   2. a byte-level BPE tokenizer trained on it (infuse tokenizer-train);
#   3. a random model of the "base" shape with that tokenizer;
#   4. pretraining: full training on the definition text (infuse train cpt);
#   5. instruction tuning: full training on the Q&A (infuse train sft);
#   6. the result in BF16 into models/base/, with the model card's numbers.
# Every stage is resumable: run it again after an interruption and it goes on
# from the last checkpoint; a stage that finished is not run again.
# Settings are in models/base/build.yaml; the time it takes is in the model card.
set -eu
cd "$(dirname "$0")/.."
W=build/base-model
CFG=models/base/build.yaml
mkdir -p "$W"
make -s corpus all

if [ ! -f "$W/tokenizer.json" ]; then
    ./infuse tokenizer-train -o "$W/tokenizer.json" --vocab-size 8192 build/corpus/text.txt
fi
if [ ! -f "$W/init/config.json" ]; then
    ./infuse init-model --shape base --tokenizer "$W/tokenizer.json" --seed 1 -o "$W/init"
fi

# stage NAME MODEL: runs (or resumes) one training stage unless it is done
stage() {
    if [ -f "$W/$1.done" ]; then
        echo "base-model: $1 already done"
        return
    fi
    resume=""
    if ls "$W/runs/$1"-*/checkpoint.safetensors >/dev/null 2>&1; then
        resume="--resume"
    fi
    ./infuse train "$1" -c "$CFG" -m "$2" $resume
    touch "$W/$1.done"
}
stage cpt "$W/init"
stage sft "$W/pretrained"

./infuse merge -m "$W/instructed" -o models/base --dtype bf16
echo "base-model: models/base written; fill in its README.md (the model card) from $W/runs/*/metrics.jsonl"
