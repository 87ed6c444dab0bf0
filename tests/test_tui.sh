#!/usr/bin/env bash
# test_tui.sh - the workbench driven as a person drives it: inside tmux,
# keys sent with send-keys, the screen read with capture-pane, and the QA
# store checked on disk.
#
# The fixture project (build/tui-test/proj) is the bundled base model and
# adapters with a six-record QA store, three evaluation questions, a
# six-step SFT run and 16-token answers, so the whole script takes well
# under a minute.  tmux runs on a private socket: the user's sessions are
# never touched.  Ends with "N passed, N failed" like every test program.
set -u
ROOT=$(pwd)     # tests/run.sh runs every test from the repository's root
BIN=${INFUSE_BIN:-./infuse}
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
DIR=$ROOT/build/tui-test
P=$DIR/proj
SOCK=infuse-test-$$
SERVER=0
T="tmux -L $SOCK-0"
passed=0 failed=0

ok() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL test_tui: $*"; }
check() { # check WHAT COMMAND...
    local what=$1; shift
    if "$@"; then ok; else fail "$what"; fi
}
screen() { $T capture-pane -p -t wb 2>/dev/null; }
# wait_for PATTERN SECONDS: until the screen shows the (extended) regex
wait_for() {
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        screen | grep -Eq -- "$1" && return 0
        sleep 0.1
    done
    echo "--- screen while waiting for /$1/:"; screen; echo "---"
    return 1
}
# gone PATTERN SECONDS: until the screen no longer shows it
gone() {
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        screen | grep -Eq -- "$1" || return 0
        sleep 0.1
    done
    return 1
}
# eventually SECONDS COMMAND...: until the command succeeds
eventually() {
    local i n=$1; shift
    for ((i = 0; i < n * 10; i++)); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}
keys() { $T send-keys -t wb "$@"; }
text() { $T send-keys -t wb -l -- "$1"; }
# paste TEXT: a bracketed paste, as a terminal sends one (tmux adds the
# brackets only when the program turned the mode on)
paste() { $T set-buffer -b p -- "$1" && $T paste-buffer -p -b p -t wb; }
# click COL ROW: a left click (X10 mouse encoding, 0-based cell)
click() {
    local x y
    x=$(printf "\\$(printf %o $((33 + $1)))") y=$(printf "\\$(printf %o $((33 + $2)))")
    text $'\e[M '"$x$y"; text $'\e[M#'"$x$y"
}
journal_has() { grep -Eq -- "$1" "$P/data/qa.jsonl.journal" "$P/data/qa.jsonl" 2>/dev/null; }
# open: infuse in a new tmux server each time (a killed server may still
# hold its socket for a moment, and a new session would go to it)
open() {
    [ "$SERVER" -gt 0 ] && $T kill-server 2>/dev/null
    SERVER=$((SERVER + 1))
    T="tmux -L $SOCK-$SERVER"
    $T -f /dev/null new-session -d -s wb -x 100 -y 30 -c "$P" "$BIN; echo EXIT \$?; sleep 30"
}
finish() {
    $T kill-server 2>/dev/null
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit $?
}

if ! command -v tmux >/dev/null; then
    fail "tmux is not installed (scripts/deps.sh installs it)"
    finish
fi
if [ ! -x "$BIN" ] || [ ! -f models/base/config.json ]; then
    fail "needs $BIN and models/base"
    finish
fi

# ---- without a terminal: a plain message, not a broken screen ----
out=$("$BIN" </dev/null 2>&1 >/dev/null); rc=$?
check "no terminal: exit 2 and says why" test "$rc" -eq 2 -a -n "$(grep 'needs a terminal' <<<"$out")"

# ---- the fixture project ----
rm -rf "$DIR"
mkdir -p "$P/data/corpus" "$P/adapters"
cp -r adapters/cpt adapters/sft "$P/adapters/"
cp data/corpus/chunk-01.md data/corpus/chunk-02.md "$P/data/corpus/"
head -n 3 data/eval.jsonl > "$P/data/eval.jsonl"
cat > "$P/infuse.yaml" <<EOF
model: $ROOT/models/base
adapters:
  cpt: adapters/cpt
  sft: adapters/sft
data:
  corpus: data/corpus
  qa: data/qa.jsonl
  eval: data/eval.jsonl
sampling:
  max_tokens: 16
threads: 2
train:
  sft:
    init_from: cpt
    steps: 6
    batch: 2
    seq_len: 64
    valid_fraction: 0.2
    eval_every: 3
    save_every: 3
EOF
cat > "$P/pairs.jsonl" <<'EOF'
{"question": "What does SCP stand for in CLaRa?", "answer": "Salient Compressor Pretraining."}
{"question": "What does CLaRa stand for?", "answer": "Continuous Latent Reasoning."}
{"question": "What is a memory token?", "answer": "A continuous embedding that stands in for part of a document."}
{"question": "Which backbone do the main results use?", "answer": "Mistral-7B."}
{"question": "How many stages does CLaRa train in?", "answer": "Three stages."}
{"question": "Who is the first author of CLaRa?", "answer": "Jie He."}
EOF
(cd "$P" && "$BIN" review --import pairs.jsonl --approve 1 --approve 6 >/dev/null 2>&1)
check "fixture store imported" test -s "$P/data/qa.jsonl"

# ---- open the workbench ----
# an ASan build's report (leaks at exit included) goes to a file, checked at the end
export ASAN_OPTIONS="detect_leaks=1:log_path=$DIR/asan"
open
check "opens on the Review pane" wait_for "1 Review +2 Train +3 Bench +4 Chat" 10
check "Review counts by status" wait_for "6 records: 4 pending, 2 approved, 0 rejected" 5
check "Review lists the records" wait_for "What does SCP stand for in CLaRa" 2

# ---- help overlay ----
keys '?'
check "help lists the pane's keys" wait_for "toggle Golden Data" 3
check "help lists the global keys" wait_for "switch pane" 1
keys x
check "any key closes the help" gone 'switch pane' 3

# ---- Review: approve, reject, golden, edit with Korean ----
keys Down            # record 2
keys a
check "approve is journaled" wait_for "approved 1 record" 3
check "approval on disk" journal_has '"id":2,"field":"status","old":"pending","new":"approved"'
keys Down r          # record 3
check "reject on disk" eventually 3 journal_has '"id":3,"field":"status","old":"pending","new":"rejected"'
keys Down g          # record 4: golden (and approved)
check "golden on disk" eventually 3 journal_has '"id":4,"field":"golden","old":"false","new":"true"'
keys Down e          # record 5: edit the answer
check "editor opens" wait_for "Editing: Tab switches field" 3
keys End
text " 세 단계입니다 😀"
check "Korean and emoji shown in the editor" wait_for "Three stages\. 세 단계입니다 😀" 3
keys C-s
check "edit saved" wait_for "saved record #5" 3
check "edit on disk (UTF-8 intact)" journal_has '"id":5,"field":"answer".*"new":"Three stages\. 세 단계입니다 😀"'
keys u
check "undo restores the answer" wait_for "undid 1 change" 3
check "undo is journaled too" journal_has '"id":5,"field":"answer","old":"Three stages\. 세 단계입니다 😀","new":"Three stages\."'
keys U
check "redo" wait_for "redid 1 change" 3
keys /
text "mistral"
check "incremental search" wait_for "showing 1 \(all\)" 3
keys Enter Escape
check "Esc clears the search" wait_for "showing 6 \(all\)" 3
keys f
check "filter by status" wait_for "showing 1 \(pending\)" 3
keys Escape
paste "ar"$'\n'"gd"
check "a paste with no text field open is not typed as commands" wait_for "paste ignored: no text field is open" 3
check "... and changes nothing" wait_for "6 records: 1 pending, 4 approved, 1 rejected" 1

# ---- resize ----
$T resize-window -t wb -x 50 -y 12
check "too small is said plainly" wait_for "needs at least 60x16" 3
check "too small: no pane drawn" gone 'Review' 3
$T resize-window -t wb -x 80 -y 24
check "redraws at 80x24" wait_for "1 Review +2 Train +3 Bench +4 Chat" 3
$T resize-window -t wb -x 100 -y 30

# ---- Train: a short SFT run ----
keys 2
check "Train pane shows the settings" wait_for "Stage: +CPT +SFT" 3
check "effective settings from infuse.yaml" wait_for "steps 6" 2
keys Enter
check "training runs and reaches its last step" wait_for "step 6/6" 90
check "run finishes" wait_for "finished +step 6/6" 30
has_braille() { screen | LC_ALL=C grep -q $'\xe2[\xa0-\xa3]'; }
check "chart drawn (braille)" has_braille
check "adapter handed to Bench and Chat" wait_for "Bench and Chat use the new sft adapter|adapter written" 5

# ---- Bench ----
keys 3 b
check "benchmark runs to the end" wait_for "^ finished" 120
check "summary row per stage" wait_for "^ sft +[0-9]+/3 " 2
check "table of questions by stage" wait_for "question +base +cpt +sft" 2
check "answer beside the reference" wait_for "base answered: +reference:" 2

# ---- Chat: two stages side by side ----
keys 4
check "Chat pane with a column per stage" wait_for "Stages F5 base F6 cpt F7 sft" 3
keys F7              # sft off: base and cpt side by side
check "two columns" wait_for "^ base +│ cpt *$" 3
paste "What does"$'\n'"SCP"
check "a pasted newline goes into the input, it does not ask" wait_for "^> What does *$" 3
check "... the input holds both lines" wait_for "^  SCP *$" 1
keys C-z
check "one Ctrl-Z takes the paste back" wait_for "^> +a question; Enter asks" 3
text "What SCP stand for?"
row=$(screen | grep -n '^> What SCP' | cut -d: -f1)
click 7 $((row - 1))   # on the S
text "does "
check "a click puts the input's cursor there" wait_for "^> What does SCP stand for\? *$" 3
keys Enter
check "both columns show the question" wait_for "What does SCP stand for\? +│ What does SCP stand for\?" 10
check "both columns answer, with tokens/s under each" wait_for "^[0-9]+ tok +[0-9.]+ tok/s.*│ *[0-9]+ tok +[0-9.]+ tok/s" 60
check "the answers finish" wait_for "answered in [0-9.]+ s" 30
keys C-g
check "a chat answer becomes a golden record in Review's editor" wait_for "New Golden Data record" 3
keys C-s
check "the new golden record is saved" wait_for "added record #7 \(golden; saved\)" 3
check "the new record on disk" journal_has '"id":7,.*"question":"What does SCP stand for\?"'

# ---- quit: asks first only while a job runs ----
keys F2 Enter
check "a second run starts" wait_for "running  step|loading the model" 30
keys q
check "quit asks while a job runs" wait_for "A job is running. Quit and stop it\? y / n" 3
keys n
check "n keeps the workbench" wait_for "Stage: +CPT +SFT" 3
check "the run ends" wait_for "finished +step 6/6" 60
keys q
check "q quits when idle" wait_for "^EXIT 0" 10
check "no sanitizer report (ASan builds)" test -z "$(ls "$DIR"/asan.* 2>/dev/null)"

# ---- kill -9 while editing: nothing acknowledged is lost ----
open
check "opens again" wait_for "1 Review +2 Train +3 Bench +4 Chat" 10
keys Home e End
text " (checked)"
keys C-s
check "second edit saved" wait_for "saved record #1" 3
keys e End
text " unsaved typing"
sleep 0.3
pid=$($T list-panes -t wb -F '#{pane_pid}')
inf=$(pgrep -P "$pid" -f "$BIN" | head -1)
[ -n "$inf" ] && kill -9 "$inf"
sleep 0.5
out=$(cd "$P" && "$BIN" review --list --json 2>/dev/null)
check "after kill -9: the saved edit is there" grep -q 'Salient Compressor Pretraining. (checked)' <<<"$out"
check "after kill -9: the approval is there" grep -q '"id":2,.*"status":"approved"' <<<"$out"
check "after kill -9: the golden mark is there" grep -q '"id":4,.*"golden":true' <<<"$out"
check "after kill -9: unsaved typing is not" test -n "${out##*unsaved typing*}"

# ---- SIGTERM (a closed terminal, a shutdown): leaves like q ----
open
check "opens a third time" wait_for "1 Review +2 Train +3 Bench +4 Chat" 10
keys r                # record 1 rejected: a change in the journal
sleep 0.3
check "the change is journaled" journal_has '"id":1,"field":"status","old":"approved","new":"rejected"'

pid=$($T list-panes -t wb -F '#{pane_pid}')
inf=$(pgrep -P "$pid" -f "$BIN" | head -1)
[ -n "$inf" ] && kill -TERM "$inf"
check "SIGTERM: a clean exit" wait_for "^EXIT 0" 5
check "SIGTERM: the store compacted (journal empty)" test ! -s "$P/data/qa.jsonl.journal"
check "SIGTERM: the change is in qa.jsonl" grep -q '"id":1,.*"status":"rejected"' "$P/data/qa.jsonl"

finish
