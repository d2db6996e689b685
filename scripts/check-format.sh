#!/usr/bin/env bash
# Checks that the folders listed below follow .clang-format (clang-format 14, Debian bookworm).
# Run by ctest (perpgw_format_check) and so by CI. Fix with: scripts/check-format.sh --fix
# Folders join this list as they are brought to the style; new code goes into listed folders.
set -euo pipefail
cd "$(dirname "$0")/.."
DIRS=(adapters/runtime adapters/wire gateway/fanout gateway/orders gateway/publish gateway/rpc gateway/risk tests/unit/runtime
      tests/unit/wire tests/fuzz)
cf="$(command -v clang-format-14 || command -v clang-format || true)"
if [ -z "$cf" ]; then
  echo "check-format: clang-format not installed (scripts/install-deps.sh installs it)" >&2
  exit 1
fi
files=()
for d in "${DIRS[@]}"; do
  while IFS= read -r f; do files+=("$f"); done < <(find "$d" -maxdepth 1 \( -name '*.h' -o -name '*.cpp' \) | sort)
done
if [ "${1:-}" = "--fix" ]; then
  "$cf" -i "${files[@]}"
  exit 0
fi
bad=0
for f in "${files[@]}"; do
  if ! "$cf" "$f" | diff -q "$f" - >/dev/null; then
    echo "check-format: $f differs from .clang-format (run scripts/check-format.sh --fix)"
    bad=1
  fi
done
[ "$bad" = 0 ] && echo "check-format: ${#files[@]} files OK"
exit "$bad"
