#!/bin/sh
# make demo: create and start a busybox container, exec into it, show what it saw, stop and
# destroy it — in a private state root that is removed afterwards.
set -eu
CTR=${1:?usage: demo.sh PATH-TO-CTR}
root=$(mktemp -d /tmp/ctr-demo.XXXXXX)
name=demo-$$
ctr() { echo "+ ctr $*" >&2; "$CTR" --root "$root" "$@"; }
cleanup() { "$CTR" --root "$root" destroy --force "$name" >/dev/null 2>&1 || true; rm -rf "$root"; }
trap cleanup EXIT
ctr create "$name" -t busybox --net none
ctr start "$name"
ctr list
ctr exec "$name" -- ps
ctr exec "$name" -- hostname
ctr exec "$name" -- sh -c 'echo "mounts seen inside:"; cut -d" " -f5 /proc/self/mountinfo | tr "\n" " "; echo'
ctr info "$name"
ctr stop "$name"
ctr destroy "$name"
echo "demo done: the container lived and left nothing behind"
