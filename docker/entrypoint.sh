#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Container entrypoint: make name resolution sane, then exec Asterisk.
set -e

# /etc/hosts sanity. With --network host docker gives the container a copy of
# the host's /etc/hosts. pjsip/res_rtp resolve "localhost" and the hostname:
# without these lines lookups go to DNS (none here) and stall for seconds, or
# "localhost" resolves only to ::1 while everything listens on 127.0.0.1.
# (The file is the container's own bind-mounted copy; the host's is untouched.)
if ! grep -qE '^127\.0\.0\.1[[:space:]]+(.*[[:space:]])?localhost([[:space:]]|$)' /etc/hosts 2>/dev/null; then
    echo '127.0.0.1 localhost' >> /etc/hosts || true
fi
h="$(hostname 2>/dev/null || true)"
if [ -n "$h" ] && ! grep -qw -- "$h" /etc/hosts 2>/dev/null; then
    echo "127.0.1.1 $h" >> /etc/hosts || true
fi

mkdir -p /var/run/asterisk /var/log/asterisk /var/spool/asterisk /var/lib/asterisk

# The Hotline module: `docker/pbx start --module PATH` mounts PATH's directory
# at /opt/hotline/module and sets HOTLINE_MODULE to the file in it. A symlink
# (rather than a bind-mounted file) always reaches the latest build.
moddir=/usr/lib/x86_64-linux-gnu/asterisk/modules
if [ -n "${HOTLINE_MODULE:-}" ]; then
    if [ -f "$HOTLINE_MODULE" ]; then
        ln -sfn "$HOTLINE_MODULE" "$moddir/app_hotline.so"
    else
        echo "hotline-entrypoint: HOTLINE_MODULE=$HOTLINE_MODULE not found" >&2
    fi
fi

exec "$@"
