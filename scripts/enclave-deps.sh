#!/bin/sh
# enclave-deps.sh GENIE_ENCLAVE: fails if the enclave program links what it must not load:
# LevelDB (genie_ledger's store; the enclave links ledger/ for the pure light client only),
# OpenBLAS (threads outside the seccomp filter; the static netlib reference BLAS stands in) or
# jansson (genesis JSON is the node's job). Run after every build of genie-enclave.
set -eu
exe=$1
bad=$(nm -u "$exe" 2>/dev/null | grep -E ' (leveldb_|cblas_|openblas_|json_)' || true)
needed=$(objdump -p "$exe" | awk '/NEEDED/ {print $2}')
lib=$(printf '%s\n' "$needed" | grep -E 'leveldb|openblas|blas|jansson' || true)
if [ -n "$bad" ] || [ -n "$lib" ]; then
    echo "enclave-deps: $exe must not link these:" >&2
    [ -n "$bad" ] && printf "%s\n" "$bad" >&2
    [ -n "$lib" ] && printf '  needs %s\n' $lib >&2
    exit 1
fi
exit 0
