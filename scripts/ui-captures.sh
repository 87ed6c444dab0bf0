#!/usr/bin/env bash
# ui-captures.sh - text captures of the four panes (the README's), taken in
# tmux on a copy of the bundled example: build/ui-captures/{review,train,
# bench,chat}.txt.  Width and height: COLS, ROWS (default 100 x 30).
# Trains SFT for TRAIN_S seconds (default 40) and stops it, runs the whole
# benchmark, and asks Chat one question (a Golden Data one, "What is SCP?").
set -eu
cd "$(dirname "$0")/.."
COLS=${COLS:-100} ROWS=${ROWS:-30} TRAIN_S=${TRAIN_S:-40}
NAME=ui-captures
. scripts/tmux-example.sh
open_example "$COLS" "$ROWS"
save() { screen | sed -e 's/[[:space:]]*$//' > "$D/$1.txt"; echo "$D/$1.txt"; }

wait_for "1 Review" 10
keys F Down Down       # the flagged records, the third one
sleep 0.5
save review
keys Escape 2 s Enter
wait_for "running +step [0-9]+/" 60
sleep "$TRAIN_S"
keys e                 # EMA: the smoothed train line
sleep 0.3
save train
keys x
wait_for "stopped" 30
cp "$ROOT"/adapters/sft/* "$P/adapters/sft/"   # Bench and Chat show the shipped adapter
keys 3 b
wait_for "^ finished" 600
keys Down
sleep 0.3
save bench
keys 4
keys -l "What is SCP?"          # a Golden Data question
keys Enter
wait_for "answered in" 120
save chat
keys q y
