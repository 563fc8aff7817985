#!/usr/bin/env bash
# Install the system programs GAN Music Studio uses, where they are missing:
#   fluidsynth  renders MIDI to audio (without it the app falls back to a plain sine synthesiser)
#   chromium    the headless browser of the end-to-end tests
# Uses apt-get with --no-install-recommends (sudo when not root). Without apt it says what is missing
# and carries on: the app still runs, with the fallback synthesiser.
set -uo pipefail

missing=()
for program in "$@"; do
  command -v "$program" >/dev/null 2>&1 || missing+=("$program")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "note: ${missing[*]} not found and apt-get is not available; install them with your package manager." >&2
  echo "note: without fluidsynth, audio uses the built-in sine synthesiser; without chromium, browser tests skip." >&2
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
  else
    echo "note: ${missing[*]} missing and neither root nor sudo is available; skipping system packages." >&2
    exit 0
  fi
fi

echo "installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! { $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"; }; then
  echo "note: could not install ${missing[*]}; the app falls back where it can." >&2
fi
exit 0
