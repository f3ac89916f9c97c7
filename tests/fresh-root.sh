#!/bin/bash
# tests/fresh-root.sh: checks the README's promise that `./bootstrap && make check` builds and
# passes on a fresh Debian 12 machine. It makes a minimal Debian 12 root (debootstrap
# --variant=minbase bookworm) from the mirror apt uses on this host, puts a clean clone of this
# repository's HEAD (committed work only) in it as /root/tern (root's home is mode 0700 there, as
# on a real machine), and runs `./bootstrap ARGS && make check` inside it with chroot, with
# /proc, /dev, /dev/pts, a tmpfs /tmp and, read-only, ../shared/testdata (the public test suites
# the tests read, e.g. RFC 7208's) mounted. Everything it mounts is unmounted when it ends,
# on failure or interruption too. Exits with make check's status (bootstrap's if that fails).
#
#   sudo tests/fresh-root.sh [bootstrap arguments]       e.g. tests/fresh-root.sh --enable-werror
#
# Optional settings (environment):
#   FRESH_ROOT_DIR=DIR     make the root in DIR, which must not exist (default: a new
#                          /var/tmp/tern-fresh-root.XXXXXX)
#   FRESH_ROOT_KEEP=1      keep the root afterwards (the test logs are in DIR/root/tern);
#                          by default it is removed
#   FRESH_ROOT_BASE=FILE   a cache of the debootstrapped base: unpacked from FILE (a .tar) when it
#                          exists, else written there after debootstrap. Unset (the default),
#                          every run debootstraps a fresh root.
#   FRESH_ROOT_MIRROR=URL  the Debian mirror (default: apt's bookworm source on this host)
#   FRESH_ROOT_TIMEOUT=S   bound on each of bootstrap and make check, in seconds (default 3600)
# The chroot shares this host's network: the tests' loopback ports must be free here too.
set -euo pipefail

[ "$(id -u)" = 0 ] || { echo "fresh-root: must run as root (debootstrap, chroot, mount)" >&2; exit 2; }
repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
head=$(git -C "$repo" rev-parse HEAD)
limit=${FRESH_ROOT_TIMEOUT:-3600}

# apt_source SUITE: the URIs of apt's sources here for SUITE (one-line .list and deb822 .sources)
apt_source() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        awk -v s="$1" '$1 == "deb" { i = 2; if ($i ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
                                    if ($(i + 1) == s) print $i }' "$f"
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk -v s="$1" 'BEGIN { RS = ""; FS = "\n" }
            { uri = ""; deb = 0; ok = 0
              for (j = 1; j <= NF; j++) {
                  if ($j ~ /^URIs:/) { split($j, w, " "); uri = w[2] }
                  if ($j ~ /^Types:/ && (" " $j " ") ~ / deb /) deb = 1
                  if ($j ~ /^Suites:/ && (" " $j " ") ~ (" " s " ")) ok = 1 }
              if (deb && ok && uri != "") print uri }' "$f"
    done
}
mirror=${FRESH_ROOT_MIRROR:-$(apt_source bookworm | sed -n 1p)}
[ -n "$mirror" ] || { echo "fresh-root: no bookworm source in apt's configuration" >&2; exit 2; }
updates=$(apt_source bookworm-updates | sed -n 1p)
security=$(apt_source bookworm-security | sed -n 1p)
command -v debootstrap >/dev/null ||
    DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q --no-install-recommends debootstrap

if [ -n "${FRESH_ROOT_DIR:-}" ]; then
    mkdir "$FRESH_ROOT_DIR"
    root=$(cd "$FRESH_ROOT_DIR" && pwd)
else
    root=$(mktemp -d /var/tmp/tern-fresh-root.XXXXXX)
fi

# bounded SECONDS COMMAND...: COMMAND under timeout, waited for in the background, since bash
# runs a trap (an interruption) only once the foreground command has ended
child=""
log=""
bounded() {
    local rc=0
    timeout -k 30 "$@" &
    child=$!
    wait "$child" || rc=$?
    child=""
    return $rc
}

mounted=()
# shellcheck disable=SC2317   # (run by the trap)
cleanup() {
    local p i
    [ -z "$child" ] || kill "$child" 2>/dev/null || true
    # processes left behind inside the root would keep its mounts busy
    for p in /proc/[0-9]*; do
        [ "$(readlink "$p/root" 2>/dev/null)" != "$root" ] || kill -9 "${p#/proc/}" 2>/dev/null || true
    done
    [ -z "$child" ] || wait "$child" 2>/dev/null || true
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
        umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}" || true
    done
    mounted=()
    rm -f "$log"
    if [ "${FRESH_ROOT_KEEP:-}" = 1 ]; then
        echo "fresh-root: the root is kept in $root"
    elif ! grep -qF " $root/" /proc/mounts; then
        rm -rf --one-file-system "$root"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

t0=$SECONDS
if [ -n "${FRESH_ROOT_BASE:-}" ] && [ -f "$FRESH_ROOT_BASE" ]; then
    echo "fresh-root: the base root from $FRESH_ROOT_BASE"
    tar -C "$root" -xpf "$FRESH_ROOT_BASE"
else
    echo "fresh-root: debootstrap --variant=minbase bookworm $root $mirror"
    log=$(mktemp)
    if ! bounded 1800 debootstrap --variant=minbase bookworm "$root" "$mirror" >"$log" 2>&1; then
        tail -n 30 "$log"
        exit 1
    fi
    if [ -n "${FRESH_ROOT_BASE:-}" ]; then
        tar -C "$root" -cpf "$FRESH_ROOT_BASE.tmp" . && mv "$FRESH_ROOT_BASE.tmp" "$FRESH_ROOT_BASE"
    fi
fi
echo "fresh-root: base root in $((SECONDS - t0))s"

# what a Debian 12 installation has beside the base: apt's sources as here (updates and
# security too) and /etc/hosts; and, as in a container, a policy-rc.d so that installing
# postfix or dovecot starts no daemon
{
    echo "deb $mirror bookworm main"
    [ -z "$updates" ] || echo "deb $updates bookworm-updates main"
    [ -z "$security" ] || echo "deb $security bookworm-security main"
} >"$root/etc/apt/sources.list"
printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n\n::1\tlocalhost ip6-localhost ip6-loopback\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n' \
    "$(hostname)" >"$root/etc/hosts"
printf '#!/bin/sh\n# no daemon starts while packages are installed in this root\nexit 101\n' \
    >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"

git clone -q --no-checkout "$repo" "$root/root/tern"
git -C "$root/root/tern" checkout -q --detach "$head"
echo "fresh-root: /root/tern at $(git -C "$root/root/tern" log --oneline -1 | cut -c1-72)"

mount -t proc proc "$root/proc"; mounted+=("$root/proc")
mount --bind /dev "$root/dev"; mounted+=("$root/dev")
mount --bind /dev/pts "$root/dev/pts"; mounted+=("$root/dev/pts")
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"; mounted+=("$root/tmp")
# the public test suites the tests read from ../shared/testdata beside the source tree (never
# copied into it), read-only at the same place beside /root/tern
if [ -d "$repo/../shared/testdata" ]; then
    mkdir -p "$root/root/shared/testdata"
    mount --bind "$repo/../shared/testdata" "$root/root/shared/testdata"
    mounted+=("$root/root/shared/testdata")
    mount -o remount,bind,ro "$root/root/shared/testdata"
fi

# runs a command in /root/tern with a root login's environment, nothing from this shell
in_root() {
    bounded "$limit" chroot "$root" /usr/bin/env -i HOME=/root USER=root LOGNAME=root \
        SHELL=/bin/bash PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        /bin/bash -c 'cd /root/tern && exec "$@"' bash "$@"
}

t0=$SECONDS
rc=0
in_root ./bootstrap "$@" || rc=$?
if [ $rc -ne 0 ]; then
    echo "fresh-root: ./bootstrap failed ($rc) after $((SECONDS - t0))s"
    exit $rc
fi
echo "fresh-root: ./bootstrap in $((SECONDS - t0))s"
t0=$SECONDS
in_root make check || rc=$?
echo "fresh-root: make check exited $rc in $((SECONDS - t0))s"
exit $rc
