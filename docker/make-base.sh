#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build the local base image `hotline-base:sid` (a minimal Debian sid root
# filesystem) with debootstrap, for machines that cannot pull from a registry.
#
# Usage: docker/make-base.sh [--force]
#
# Environment:
#   HOTLINE_BASE_IMAGE   image tag to create        (default hotline-base:sid)
#   HOTLINE_DEBIAN_MIRROR Debian mirror for debootstrap (default: the host's
#                         apt mirror if it is a plain Debian one, else
#                         http://deb.debian.org/debian)
#
# Cached: does nothing if the image already exists (unless --force).
set -euo pipefail

IMAGE="${HOTLINE_BASE_IMAGE:-hotline-base:sid}"
FORCE=0
[[ "${1:-}" == "--force" ]] && FORCE=1

if [[ $FORCE -eq 0 ]] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
    echo "make-base: $IMAGE already present"
    exit 0
fi

# Pick the mirror: the one this host's apt already uses for Debian (it is the
# one known to be reachable), falling back to deb.debian.org.
mirror="${HOTLINE_DEBIAN_MIRROR:-}"
if [[ -z "$mirror" ]]; then
    mirror="$(grep -rhoE '(URIs:|deb)[[:space:]]+https?://[^[:space:]]+/debian/?([[:space:]]|$)' \
                 /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
              | awk '{print $2}' | head -n1 || true)"
    mirror="${mirror:-http://deb.debian.org/debian}"
fi

command -v debootstrap >/dev/null || {
    echo "make-base: debootstrap not installed (apt-get install debootstrap)" >&2
    exit 1
}
[[ $(id -u) -eq 0 ]] || { echo "make-base: debootstrap needs root" >&2; exit 1; }

dir="$(mktemp -d /tmp/hotline-base.XXXXXX)"
trap 'rm -rf "$dir"' EXIT

echo "make-base: debootstrap sid from $mirror into $dir"
start=$SECONDS
debootstrap --variant=minbase sid "$dir" "$mirror"

# Keep the image small and apt usable non-interactively.
rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
# Snapshot/stale mirrors: do not reject Release files past Valid-Until.
echo 'Acquire::Check-Valid-Until "false";' > "$dir/etc/apt/apt.conf.d/99hotline-no-valid-until"

echo "make-base: importing into docker as $IMAGE"
tar -C "$dir" -c . | docker import \
    --change 'ENV DEBIAN_FRONTEND=noninteractive' \
    --change 'CMD ["/bin/bash"]' \
    - "$IMAGE"
echo "make-base: done in $((SECONDS - start)) s"
