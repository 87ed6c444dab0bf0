#!/bin/sh
# probe-recall.sh - data/probe_recall.jsonl: a second forgetting probe, 100
# acronyms the base model was taught (build/corpus/qa.jsonl, make corpus),
# asked as it was taught them: "What does X stand for?".
#
# Why a second probe: data/probe.jsonl asks 34 questions, so one question is
# 3 points and training seeds alone move it by 3 questions, as much as the
# 10-point limit it is read against.  The base model recalls the acronyms
# of its instruction data word for word (it saw each 8 times), so any of
# them lost in training is forgetting, not noise; 100 of them resolve a few
# points.  Taken deterministically (every Nth eligible pair, in file order):
# one expansion ("X stands for Y.", not "can stand for"), 2-4 words of it
# worth checking, no backslash or quote to unescape, not a probe term.
# scripts/replay.sh then leaves these acronyms out of the replay data, so
# that the probe measures what training kept, not what it showed again:
# run this first.
# Keywords: the expansion's words, lower case, without of/the/and/... and
# without the acronym itself (a recursive one, "RUTE Users Tutorial ...").
set -eu
cd "$(dirname "$0")/.."
C=build/corpus
[ -f "$C/qa.jsonl" ] || make -s corpus
N=${N:-100}
# the words of the probe terms, lower-cased, one per line
known=$(grep -v '^#' data/probe_terms.txt | tr 'A-Z' 'a-z' | tr -cs 'a-z0-9' '\n' | sort -u)
awk -v KNOWN="$known" -v N="$N" '
    BEGIN { n = split(KNOWN, k, "\n"); for (i = 1; i <= n; i++) seen[k[i]] = 1 }
    /\\/ { next }
    match($0, /"content":"What does [^ "]+ stand for\?"/) {
        x = substr($0, RSTART + 21, RLENGTH - 33)
        pre = "\"content\":\"" x " stands for "
        p = index($0, pre)
        if (!p) next
        rest = substr($0, p + length(pre))
        e = index(rest, ".\"}")
        if (!e) next
        ex = substr(rest, 1, e - 1)
        # the acronym, as the replay check splits words: all its parts unseen
        parts = tolower(x); gsub(/[^a-z0-9]+/, " ", parts)
        m = split(parts, w, " "); hit = 0
        for (i = 1; i <= m; i++) if (w[i] in seen) hit = 1
        if (hit || x in taken) next
        words = tolower(ex); gsub(/[^a-z'\''-]+/, " ", words)
        m = split(words, w, " "); kw = ""; nk = 0
        for (i = 1; i <= m; i++)
            if (w[i] !~ /^(of|the|and|for|a|an|in|on|to|or|with|by|-|'\'')$/ && w[i] != tolower(x)) {
                kw = kw (nk ? "," : "") "\"" w[i] "\""; nk++
            }
        if (nk < 2 || nk > 4) next
        taken[x] = 1
        q[++count] = "{\"question\": \"What does " x " stand for?\", \"reference_answer\": \"" ex ".\", \"keywords\": [" kw "], \"category\": \"general\"}"
    }
    END {
        step = int(count / N); if (step < 1) step = 1
        for (i = 1; i <= count && out < N; i += step) { print q[i]; out++ }
    }' "$C/qa.jsonl" > data/probe_recall.jsonl.tmp
mv data/probe_recall.jsonl.tmp data/probe_recall.jsonl
echo "probe-recall: $(wc -l < data/probe_recall.jsonl) questions in data/probe_recall.jsonl"
