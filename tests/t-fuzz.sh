#!/bin/sh
# The fuzz targets' short run (about 5 s each, two at a time) as part of `make test`;
# `make fuzz` runs them for 10 minutes.  See tests/fuzz.sh.
cd "$(dirname "$0")/.." || exit 111
B=${POSTERN_FUZZ_BUILD:-/tmp/postern-fuzz.$$}
export B
trap 'rm -rf "$B"' EXIT
sh tests/fuzz.sh short
