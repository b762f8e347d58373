#!/usr/bin/env bash
# Idempotent set-up shared by `npm start` and `npm test`.
#
#   1. npm dependencies: `npm ci` when node_modules is missing or older than the lockfile, then
#      the compiled distribution in dist/ when a source is newer than it (scripts/build.mjs);
#   2. system packages (nats-server, docker.io, busybox-static, chromium for the live page's
#      browser tests, docker-registry + apache2-utils, prometheus, nftables, conntrack): installed
#      with apt-get when
#      running as root, otherwise the missing ones are named and the script exits non-zero;
#   3. the Docker engine: started (overlay2) when its socket is absent or stale, then waited for;
#   4. the base image berth/busybox: imported from Debian's static busybox when absent.
#
# Every step checks before it acts, so running it twice does nothing the second time.
# BERTH_SETUP_SKIP_DOCKER=1 skips steps 3 and 4 (for a machine that only runs the hollow runtime).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'berth setup: %s\n' "$*" >&2; }
die() { printf 'berth setup: error: %s\n' "$*" >&2; exit 1; }

# ---- 1. npm dependencies -------------------------------------------------------------------
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.berth-lock-sha256
if [ ! -d node_modules ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_sum" ]; then
  log "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$lock_sum" > "$stamp"
fi

# ---- 1b. the compiled distribution -------------------------------------------------------------
# dist/ (JavaScript + .d.ts) is what bin/berth.js and the package entry run; rebuilt only when a
# source is newer than the last build (scripts/build.mjs).
node scripts/build.mjs

# ---- 2. system packages --------------------------------------------------------------------
need=()
command -v nats-server >/dev/null 2>&1 || need+=(nats-server)
if [ "${BERTH_SETUP_SKIP_DOCKER:-}" != 1 ]; then
  command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
  # the static build (Debian busybox-static) is the one that runs inside an empty image
  applets=$([ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null || true)
  linkage=$(ldd /bin/busybox 2>&1 || true)
  if ! grep -qx httpd <<<"$applets" || ! grep -q 'not a dynamic' <<<"$linkage"; then need+=(busybox-static); fi
fi
command -v ip >/dev/null 2>&1 || need+=(iproute2)
# Debian's Chromium, driven headless by playwright-core in the live page's tests (no browser
# is ever downloaded).
[ -x /usr/bin/chromium ] || need+=(chromium)
# A real registry (distribution 2.8) and htpasswd for its auth, for image pulls; Prometheus
# (and promtool) for the metrics tests; nftables and conntrack for the kernel proxy mode.
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || need+=(apache2-utils)
command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
command -v nft >/dev/null 2>&1 || need+=(nftables)
command -v conntrack >/dev/null 2>&1 || need+=(conntrack)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    log "installing Debian packages: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2
    apt-get install -y -q --no-install-recommends "${need[@]}" >&2
  else
    die "missing system packages: ${need[*]}
  install them as root with:  apt-get update && apt-get install -y ${need[*]}"
  fi
fi

[ "${BERTH_SETUP_SKIP_DOCKER:-}" = 1 ] && exit 0

# ---- 3. the Docker engine -------------------------------------------------------------------
# Debian's own client; /usr/local/bin may hold a newer client that speaks a newer API.
DOCKER=/usr/bin/docker
[ -x "$DOCKER" ] || DOCKER=$(command -v docker)
sock=${DOCKER_HOST:-unix:///var/run/docker.sock}
sock=${sock#unix://}
if ! "$DOCKER" info >/dev/null 2>&1; then
  # A socket left behind by a dockerd that was killed (the machine's processes ended, the
  # daemon crashed) answers nothing: with no dockerd process alive it is stale, so remove it
  # (and the pid file) and start the engine, rather than wait for a daemon that is gone.
  if [ -S "$sock" ] && ! pgrep -x dockerd >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    log "docker socket $sock is stale (no dockerd process); removing it"
    rm -f "$sock" /var/run/docker.pid
  fi
  if [ -S "$sock" ]; then
    log "docker socket $sock exists but the engine does not answer yet; waiting"
  elif [ "$(id -u)" = 0 ]; then
    log "starting dockerd (overlay2), log in /var/log/berth-dockerd.log"
    setsid nohup dockerd --storage-driver overlay2 >/var/log/berth-dockerd.log 2>&1 < /dev/null &
  else
    die "the Docker engine is not running and only root can start it (sudo dockerd &)"
  fi
  for i in $(seq 1 120); do
    "$DOCKER" info >/dev/null 2>&1 && break
    [ "$i" = 120 ] && die "dockerd did not answer within 60 s; see /var/log/berth-dockerd.log"
    sleep 0.5
  done
  log "dockerd is up"
fi

# ---- 4. the base image ------------------------------------------------------------------------
if ! "$DOCKER" image inspect berth/busybox:latest >/dev/null 2>&1; then
  log "importing base image berth/busybox from /bin/busybox (Debian busybox-static)"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$tmp/rootfs/bin" "$tmp/rootfs/sbin" "$tmp/rootfs/usr/bin" "$tmp/rootfs/usr/sbin" \
           "$tmp/rootfs/etc" "$tmp/rootfs/tmp" "$tmp/rootfs/var/www" "$tmp/rootfs/root" "$tmp/rootfs/data"
  chmod 1777 "$tmp/rootfs/tmp"
  cp /bin/busybox "$tmp/rootfs/bin/busybox"
  for applet in $(/bin/busybox --list-full); do
    [ "$applet" = bin/busybox ] && continue
    ln -sf /bin/busybox "$tmp/rootfs/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$tmp/rootfs/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$tmp/rootfs/etc/group"
  echo 'berth busybox base image' > "$tmp/rootfs/var/www/index.html"
  tar -C "$tmp/rootfs" -c . | "$DOCKER" import \
    --change 'CMD ["sh"]' --change 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' \
    --message 'berth base image from Debian busybox-static' - berth/busybox:latest >/dev/null
  log "imported berth/busybox:latest"
fi
