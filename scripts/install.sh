#!/usr/bin/env bash
# Installs everything pathwatch needs on a Debian machine; safe to run again.
#  - npm packages (npm ci, from package-lock.json)
#  - from Debian, where missing: chromium (browser journeys), tcpdump (packet capture),
#    redis-server (the only stateful service), tshark (cross-checks captures in tests),
#    iproute2 + iptables (network-namespace tests), iputils-ping (the ping check).
#  - promtool (Prometheus' own checker of the /metrics text format, for the tests), unpacked
#    from Debian's prometheus package into .cache/promtool: the Prometheus server and its
#    service are not installed.
# Never downloads a browser of its own: Playwright drives Debian's Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'install: %s\n' "$*"; }

need_node_major=20
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt "$need_node_major" ]; then
  say "Node.js >= $need_node_major is required (found: $(node --version 2>/dev/null || echo none)); install it first, e.g. apt-get install nodejs npm"
  exit 1
fi

# command -> Debian package
declare -A packages=(
  [chromium]=chromium
  [tcpdump]=tcpdump
  [redis-server]=redis-server
  [tshark]=tshark
  [ip]=iproute2
  [iptables]=iptables
  [ping]=iputils-ping
)
missing=()
for command in "${!packages[@]}"; do
  if command -v "$command" >/dev/null 2>&1; then
    say "$command: present ($(command -v "$command"))"
  else
    missing+=("${packages[$command]}")
  fi
done
# A font, not a command: without a CJK font Chromium draws Japanese (mails, run page) as boxes.
fc-list :lang=ja 2>/dev/null | grep -q . || missing+=(fonts-noto-cjk)

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing from Debian: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # tshark asks whether non-root users may capture; the default (no) is what we want.
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    say "installed: ${missing[*]}"
  else
    say "missing: ${missing[*]}"
    say "cannot install them here (needs root and apt-get); run as root: apt-get install ${missing[*]}"
    say "pathwatch still runs without them: journeys need chromium, captures need tcpdump, 'pathwatch start' needs redis-server or REDIS_URL"
  fi
fi

if command -v promtool >/dev/null 2>&1 || [ -x .cache/promtool/usr/bin/promtool ]; then
  say "promtool: present"
elif command -v apt-get >/dev/null 2>&1; then
  download=$(mktemp -d)
  fetch() { (cd "$download" && apt-get download prometheus >/dev/null 2>&1); }
  # Package lists may be empty on a fresh machine whose other packages were all present.
  if fetch || { [ "$(id -u)" -eq 0 ] && apt-get update -qq && fetch; }; then
    mkdir -p .cache/promtool
    dpkg -x "$download"/prometheus_*.deb .cache/promtool
    say "promtool: unpacked into .cache/promtool"
  else
    say "promtool: could not download Debian's prometheus package; the /metrics format test will be skipped"
  fi
  rm -rf "$download"
fi

if [ -f node_modules/.package-lock.json ] && cmp -s package-lock.json node_modules/.pathwatch-installed-lock 2>/dev/null; then
  say "npm packages: up to date"
else
  say "npm packages: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.pathwatch-installed-lock
fi
say "done"
