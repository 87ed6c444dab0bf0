#!/usr/bin/env bash
# Checks for Debian/Ubuntu packages and installs the missing ones with
# apt-get (through sudo when not root): the ones infuse builds and tests
# with, or those named as arguments (`make corpus` passes the dict-*
# dictionaries; their postinst only registers them with a dictd server,
# which is why recommends are not installed).
# Quiet when everything is present, so `make run` stays fast on the second go.
# Set INFUSE_NO_APT=1 to only report what is missing.
set -eu
pkgs="gcc make pkg-config libncurses-dev libyaml-dev libcjson-dev libopenblas-dev libunistring-dev tmux"
if [ $# -gt 0 ]; then
    pkgs="$*"
fi
missing=""
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
    echo "infuse: missing packages:$missing (no apt-get here: install them by hand)" >&2
    exit 1
fi
if [ "${INFUSE_NO_APT:-0}" = 1 ]; then
    echo "infuse: missing packages:$missing" >&2
    exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "infuse: need root or sudo to install:$missing" >&2; exit 1; }
    sudo="sudo"
fi
echo "infuse: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing
