#!/usr/bin/env bash
# Installs the Debian dictionary packages the bundled base model's
# pretraining corpus is built from (`make corpus`): computing acronyms
# (dict-vera), the computing dictionary (dict-foldoc), the Jargon File
# (dict-jargon) and general English (dict-gcide, dict-wn).  They put
# NAME.index and NAME.dict.dz files in /usr/share/dictd.  Works like
# scripts/deps.sh: quiet when all are present, apt-get through sudo when
# not root, INFUSE_NO_APT=1 only reports what is missing.
set -eu
pkgs="${INFUSE_DICT_PKGS:-dict-vera dict-foldoc dict-jargon dict-gcide dict-wn}"
missing=""
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
    echo "infuse: missing dictionary packages:$missing (no apt-get here: install them by hand)" >&2
    exit 1
fi
if [ "${INFUSE_NO_APT:-0}" = 1 ]; then
    echo "infuse: missing dictionary packages:$missing" >&2
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
# The packages' postinst scripts only register the dictionaries with a
# dictd server, which the corpus does not need: no recommends (dictd).
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing
