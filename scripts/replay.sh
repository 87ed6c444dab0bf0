#!/bin/sh
# replay.sh - the example's replay data: a small, fixed sample of the base
# model's own training data (build/corpus from make corpus), mixed into CPT
# (data/replay.txt, definition text) and SFT (data/replay.jsonl, Q&A) so that
# learning the domain does not wear away what the base model knew.
#
# Nothing about a term of data/probe_terms.txt is taken: the forgetting probe
# asks about those, and must measure what the model kept, not what it was
# shown again.  Deterministic: every Nth eligible entry.
set -eu
cd "$(dirname "$0")/.."
C=build/corpus
[ -f "$C/qa.jsonl" ] || make -s corpus
# probe terms, lower-cased, one per line (comments dropped)
terms=$(grep -v '^#' data/probe_terms.txt | tr 'A-Z' 'a-z')

# mentions(line): 1 when the line holds a probe term as a whole word
awk_probe='
    BEGIN { n = split(TERMS, t, "\n") }
    function mentions(s,    i, l) {
        l = " " tolower(s) " "
        gsub(/[^a-z0-9]+/, " ", l)
        for (i = 1; i <= n; i++)
            if (t[i] != "" && index(l, " " t[i] " ")) return 1
        return 0
    }'
# Q&A in the proportions the base model was instruction-tuned on
# (scripts/base-model.sh counts each acronym pair 8 times): a sample that
# keeps its question kinds, acronyms above all, in the same balance.
awk -v TERMS="$terms" "$awk_probe"'
    !mentions($0) {
        k += /"content":"[^"]* (stands|can stand) for / ? 8 : 1
        if (k >= next_at) { print; next_at += 120 }
    }' "$C/qa.jsonl" > data/replay.jsonl.tmp
# text.txt: entries are paragraphs "HEAD: definition" separated by a blank line
awk -v TERMS="$terms" -v RS= -v ORS='\n\n' "$awk_probe"'
    !mentions($0) && ++k % 120 == 0 { print }' "$C/text.txt" > data/replay.txt.tmp
mv data/replay.jsonl.tmp data/replay.jsonl
mv data/replay.txt.tmp data/replay.txt
echo "replay: $(wc -l < data/replay.jsonl) Q&A pairs in data/replay.jsonl, $(grep -c . data/replay.txt) entries in data/replay.txt"
