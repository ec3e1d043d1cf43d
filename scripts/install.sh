#!/usr/bin/env bash
# Installs hoptrace: the binary, its man pages (hoptrace, hoptrace-monitor, hoptrace-bulk), shell completions (bash,
# zsh, fish) and, if asked, a `tracepath` link that runs it with tracepath(8)'s options and layout, and an `mtr` link
# that runs it with mtr's.
#
#   scripts/install.sh [--prefix DIR] [--tracepath-link] [--mtr-link] [--from DIR]
#
#   --prefix DIR       install under DIR (default /usr/local): DIR/bin, DIR/share/man/man1, DIR/share/…/completions
#   --tracepath-link   also DIR/bin/tracepath -> hoptrace (it hides iputils' tracepath where DIR/bin comes first)
#   --mtr-link         also DIR/bin/mtr -> hoptrace (it hides mtr where DIR/bin comes first)
#   --from DIR         take hoptrace and hoptrace-docs already built in DIR instead of building a release
set -euo pipefail
cd "$(dirname "$0")/.."

prefix=/usr/local
from=
link=
mtr_link=
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix="$2"; shift 2 ;;
    --from) from="$2"; shift 2 ;;
    --tracepath-link) link=1; shift ;;
    --mtr-link) mtr_link=1; shift ;;
    *) echo "scripts/install.sh: unknown option $1 (see the comment at the top of this script)" >&2; exit 2 ;;
  esac
done

if [ -z "$from" ]; then
  cargo build --release --locked -p hoptrace
  from=target/release
fi

install -D -m 755 "$from/hoptrace" "$prefix/bin/hoptrace"
"$from/hoptrace-docs" man | install -D -m 644 /dev/stdin "$prefix/share/man/man1/hoptrace.1"
for page in monitor bulk; do
  "$from/hoptrace-docs" man "$page" | install -D -m 644 /dev/stdin "$prefix/share/man/man1/hoptrace-$page.1"
done
"$from/hoptrace-docs" completions bash | install -D -m 644 /dev/stdin "$prefix/share/bash-completion/completions/hoptrace"
"$from/hoptrace-docs" completions zsh | install -D -m 644 /dev/stdin "$prefix/share/zsh/site-functions/_hoptrace"
"$from/hoptrace-docs" completions fish | install -D -m 644 /dev/stdin "$prefix/share/fish/vendor_completions.d/hoptrace.fish"
if [ -n "$link" ]; then
  ln -sfn hoptrace "$prefix/bin/tracepath"
fi
if [ -n "$mtr_link" ]; then
  ln -sfn hoptrace "$prefix/bin/mtr"
fi
echo "installed hoptrace $("$prefix/bin/hoptrace" -V | cut -d' ' -f2-) under $prefix"
