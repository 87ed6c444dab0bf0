#!/usr/bin/env bash
# ui-latency.sh - how fast the workbench answers keys while training uses
# every core (make ui-latency).
#
# Opens ./infuse in tmux on a copy of the bundled example, starts CPT
# training (threads: all cores), and once steps are coming sends KEYS keys
# (default 300) every 40 ms: pane switches, list moves in Review, the EMA
# and log-scale toggles that redraw the loss chart.  Two measurements:
#   in the program: INFUSE_LATENCY_LOG, each key's time from being read to
#     the end of the doupdate() that shows it (workbench.c);
#   from outside: 30 more pane switches, each timed from `tmux send-keys`
#     until `tmux capture-pane` shows the new screen (includes tmux and the
#     polling, so it is an upper bound).
# Prints p50, p90, p99 and max of each.  Stops the training and quits.
set -eu
cd "$(dirname "$0")/.."
KEYS=${KEYS:-300}
NAME=ui-latency
. scripts/tmux-example.sh
LOG=$D/keys.log
open_example 120 35 "INFUSE_LATENCY_LOG=$LOG"
wait_for "1 Review" 10
keys 2 c Enter
wait_for "running +step [0-9]+/" 120
echo "training runs: $(screen | grep -Eo 'step [0-9]+/[0-9]+ .*' | head -1)"
skip=$(wc -l < "$LOG" 2>/dev/null || echo 0)   # keys before the load are not counted
ext=()
# each group starts by choosing its pane, so a key always means the same
seq_keys=(1 Down Down Up 2 e e l l 3 Down Up)
for ((k = 0; k < KEYS; k++)); do
    keys "${seq_keys[k % ${#seq_keys[@]}]}"
    sleep 0.04
done
# from outside: pane switches, a key that always changes the screen
pane=1
for ((k = 0; k < 30; k++)); do
    pane=$((pane == 1 ? 2 : 1))
    before=$(screen)
    t0=$(date +%s%N)
    keys "$pane"
    while [ "$(screen)" = "$before" ]; do
        (($(date +%s%N) - t0 > 2000000000)) && break
    done
    ext+=($((($(date +%s%N) - t0) / 1000)))
    sleep 0.1
done
keys 2
sleep 1.5
echo "under load: $(screen | grep -Eo 'step [0-9]+/[0-9]+' | head -1), $(screen | grep -Eo '[0-9]+ tokens/s' | head -1) (training, as the Train pane shows it)"
keys x
sleep 2
keys q y
sleep 1
stats() { # prints p50 p90 p99 max of the numbers on stdin (milliseconds)
    sort -n | awk '{v[NR] = $1} END {
        if (NR == 0) { print "no samples"; exit }
        i50 = int(NR * 0.50 + 0.5); i90 = int(NR * 0.90 + 0.5); i99 = int(NR * 0.99 + 0.5)
        if (i50 < 1) i50 = 1; if (i90 < 1) i90 = 1; if (i99 < 1) i99 = 1
        printf "%d keys: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n", NR, v[i50], v[i90], v[i99], v[NR] }'
}
echo "key read to redraw done (in the program): $(tail -n +$((skip + 1)) "$LOG" | stats)"
echo "send-keys to screen changed (tmux, outside): $(printf '%s\n' "${ext[@]}" | awk '{print $1 / 1000}' | stats)"
