#!/bin/sh
# replay.sh - the example's replay data: a small, fixed sample of the base
# model's own instruction data (build/corpus from make corpus), mixed into
# CPT (data/replay_chat.jsonl) and SFT (data/replay.jsonl) so that learning
# the domain does not wear away what the base model knew.  CPT replays
# conversations, not dictionary text: on domain text alone the model
# forgets to end its answer and runs on (README, "The example").
#
# Nothing about a term of data/probe_terms.txt or an acronym of
# data/probe_recall.jsonl (scripts/probe-recall.sh, run first) is taken: the
# forgetting probes ask about those, and must measure what the model kept,
# not what it was shown again.  Deterministic: every Nth eligible entry.
set -eu
cd "$(dirname "$0")/.."
C=build/corpus
[ -f "$C/qa.jsonl" ] || make -s corpus
# one Q&A pair in QSTEP for SFT (acronyms weighted as below), 1,873 pairs.
# Many different pairs, not a few repeated: with 469 pairs
# twice (and the QA once), SFT kept 70 of probe_recall.jsonl's 100 acronyms;
# with 1,873 once (and the QA twice), 92 (README, "The example")
QSTEP=${QSTEP:-30}
# one in CSTEP for CPT: 234 pairs, a third of CPT's tokens
CSTEP=${CSTEP:-240}
# probe terms and recall-probe acronyms, lower-cased, one per line
terms=$( (grep -v '^#' data/probe_terms.txt
          sed -n 's/^{"question": "What does \([^ ]*\) stand for?".*/\1/p' data/probe_recall.jsonl) | tr 'A-Z' 'a-z')

# mentions(line): 1 when the line holds a probe term as a whole word
awk_probe='
    BEGIN {
        n = split(TERMS, t, "\n")
        for (i = 1; i <= n; i++) { gsub(/[^a-z0-9]+/, " ", t[i]); gsub(/^ +| +$/, "", t[i]) }
    }
    function mentions(s,    i, l) {
        l = " " tolower(s) " "
        gsub(/[^a-z0-9]+/, " ", l)
        for (i = 1; i <= n; i++)
            if (t[i] != "" && index(l, " " t[i] " ")) return 1
        return 0
    }'
# Q&A in the proportions the base model was instruction-tuned on
# (scripts/base-model.sh counts each acronym pair 8 times): a sample that
# keeps its question kinds, acronyms above all, in the same balance.  One
# pass, two samples: one pair in QSTEP for SFT, one in CSTEP for CPT.
awk -v TERMS="$terms" -v QSTEP="$QSTEP" -v CSTEP="$CSTEP" "$awk_probe"'
    !mentions($0) {
        k += /"content":"[^"]* (stands|can stand) for / ? 8 : 1
        if (k >= q_at) { print > "data/replay.jsonl.tmp"; q_at += QSTEP }
        if (k >= c_at) { print > "data/replay_chat.jsonl.tmp"; c_at += CSTEP }
    }' "$C/qa.jsonl"
mv data/replay.jsonl.tmp data/replay.jsonl
mv data/replay_chat.jsonl.tmp data/replay_chat.jsonl
echo "replay: $(wc -l < data/replay.jsonl) Q&A pairs in data/replay.jsonl, $(wc -l < data/replay_chat.jsonl) in data/replay_chat.jsonl"
