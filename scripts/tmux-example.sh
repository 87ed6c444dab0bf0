# tmux-example.sh - sourced by ui-latency.sh and ui-captures.sh: a copy of
# the bundled example in build/NAME/proj and ./infuse opened on it in a
# private tmux server (the user's sessions are never touched).
#
#   NAME=ui-foo; . scripts/tmux-example.sh; open_example COLS ROWS [ENV=VALUE]
# then screen (the pane's text), keys KEY..., wait_for REGEX SECONDS.
ROOT=$(pwd)
D=$ROOT/build/$NAME
P=$D/proj
T="tmux -L infuse-$NAME-$$"
command -v tmux >/dev/null || { echo "$NAME: needs tmux (make deps)" >&2; exit 1; }
make -s all
rm -rf "$D"
mkdir -p "$P"
cp -r infuse.yaml data adapters "$P/"
ln -s "$ROOT/models" "$P/models"
rm -f "$P/data/qa.jsonl.journal"
trap '$T kill-server 2>/dev/null' EXIT

open_example() { # COLS ROWS [ENV=VALUE]: infuse in session "ex"
    $T -f /dev/null new-session -d -s ex -x "$1" -y "$2" -c "$P" "${3:-} $ROOT/infuse"
}
screen() { $T capture-pane -p -t ex; }
keys() { $T send-keys -t ex "$@"; }
wait_for() { # REGEX SECONDS: until the screen shows it, else the screen and exit 1
    for ((i = 0; i < $2 * 10; i++)); do
        screen | grep -Eq -- "$1" && return 0
        sleep 0.1
    done
    echo "$NAME: timed out waiting for /$1/" >&2
    screen >&2
    exit 1
}
