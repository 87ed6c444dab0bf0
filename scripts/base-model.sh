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
if [ ! -f "$W/sft-train.jsonl" ]; then
    # every 50th definition pair held out; acronym pairs 8 times over
    awk -v valid="$W/sft-valid.jsonl" '
        /"content":"[^"]* (stands|can stand) for / { for (i = 0; i < 8; i++) print; next }
        ++n % 50 == 0 { print > valid; next }
        { print }' build/corpus/qa.jsonl > "$W/sft-train.jsonl.tmp"
    mv "$W/sft-train.jsonl.tmp" "$W/sft-train.jsonl"
fi
stage sft "$W/pretrained"

./infuse merge -m "$W/instructed" -o models/base --dtype bf16

# The model card's measurements: 100 single-meaning acronyms from the
# training Q&A (every 8th), scored by the stage benchmark (correct when the
# answer contains the whole expansion), and what it says about SCP and CLaRa.
grep '"What does [^"]* stand for?"' build/corpus/qa.jsonl | grep -v 'can stand for' | awk 'NR % 8 == 1' | head -100 |
    sed -E 's/.*"content":"(What does [^"]* stand for\?)"\},\{"role":"assistant","content":"([^"]* stands for ([^"]*)\.)"\}\]\}/{"question":"\1","reference_answer":"\2","keywords":["\3"],"category":"acronym"}/' \
    > "$W/acronyms.jsonl"
./infuse bench -m models/base --stages base --eval "$W/acronyms.jsonl" --probe none \
    --json "$W/acronyms.json" | tail -2
for q in "What does SCP stand for?" "What is CLaRa?" "What does CLaRa stand for?"; do
    printf '%s -> ' "$q"
    ./infuse generate -m models/base --chat -p "$q" -n 40 --temp 0
done
echo "base-model: models/base written; its model card (models/base/README.md) takes the numbers above,"
echo "the losses in $W/runs/*/metrics.jsonl and the time in $W/*.done's dates"
