#!/usr/bin/env bash
# Adds the apt sources the build needs beyond a stock Debian 12 image:
#  - bookworm-backports, for meson >= 1.1 (bookworm ships 1.0.1; mediasoup 3.13 needs >= 1.1)
#  - deb-src for bookworm and bookworm-security, to fetch libsrtp's source (built with OpenSSL crypto)
# The mirror URIs are taken from the machine's own debian.sources so that whatever mirror the
# machine is set up with is reused; nothing here names a host.
set -euo pipefail
target=/etc/apt/sources.list.d/sfu-extra.sources
src=/etc/apt/sources.list.d/debian.sources
[ -f "$target" ] && exit 0
if [ ! -f "$src" ]; then
  echo "apt-sources: $src not found; add bookworm-backports and deb-src lines by hand" >&2
  exit 1
fi
# First URIs line belongs to the main archive, the one followed by bookworm-security to security.
main_uri=$(awk '/^URIs:/{u=$2} /^Suites:/ && /bookworm( |$)/{print u; exit}' "$src")
sec_uri=$(awk '/^URIs:/{u=$2} /^Suites:/ && /bookworm-security/{print u; exit}' "$src")
keyring=$(awk '/^Signed-By:/{print $2; exit}' "$src")
{
  printf 'Types: deb deb-src\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: %s\n\n' "$main_uri" "$keyring"
  printf 'Types: deb-src\nURIs: %s\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: %s\n\n' "$main_uri" "$keyring"
  [ -n "$sec_uri" ] && printf 'Types: deb-src\nURIs: %s\nSuites: bookworm-security\nComponents: main\nSigned-By: %s\n' "$sec_uri" "$keyring"
} > "$target"
echo "apt-sources: wrote $target"
