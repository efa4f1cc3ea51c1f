# shellcheck shell=bash
# Sourced by scripts/demo and scripts/test: a pinned virtualenv, the collection on the collections
# path, and a throw-away ANSIBLE_HOME. Idempotent and quick when everything is already there.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${AIOHUB_VENV:-$REPO/.venv}
CACHE=$REPO/.cache
REQUIREMENTS=$REPO/tests/requirements.txt
export PIP_DISABLE_PIP_VERSION_CHECK=1

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

ensure_venv() {
  local stamp=$VENV/.requirements.sha256 want
  want=$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)
  if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return
  fi
  log "creating the virtualenv $VENV (pinned tools from tests/requirements.txt)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
  "$VENV/bin/pip" install -q -r "$REQUIREMENTS" 2>&1 | grep -v "^WARNING: Location" || true
  "$VENV/bin/python" -c "import ansible, jsonschema, molecule, testinfra, hypothesis" \
    || { echo "virtualenv install failed" >&2; exit 1; }
  echo "$want" > "$stamp"
}

ensure_collection_path() {
  # ansible finds collections as <path>/ansible_collections/<namespace>/<name>: link the repository there.
  mkdir -p "$CACHE/collections/ansible_collections/aiohub"
  ln -sfn "$REPO" "$CACHE/collections/ansible_collections/aiohub/claude_desktop"
}

ensure_venv
ensure_collection_path
export PATH=$VENV/bin:$PATH
export ANSIBLE_COLLECTIONS_PATH=$CACHE/collections
if [ -z "${ANSIBLE_HOME:-}" ]; then
  ANSIBLE_HOME=$(mktemp -d "${TMPDIR:-/tmp}/aiohub-ansible-home.XXXXXX")
  # A script's throw-away ANSIBLE_HOME goes with it; an interactive shell keeps it for its lifetime.
  case $- in *i*) ;; *) trap 'rm -rf "$ANSIBLE_HOME"' EXIT ;; esac
fi
export ANSIBLE_HOME
export ANSIBLE_NOCOWS=1
export ANSIBLE_LOCALHOST_WARNING=false
export ANSIBLE_INVENTORY_UNPARSED_WARNING=false
export AIOHUB_REPO=$REPO
