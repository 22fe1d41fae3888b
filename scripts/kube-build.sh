#!/usr/bin/env bash
# Build the test cluster's binaries once per machine: kube-apiserver, kube-controller-manager and
# kube-scheduler (Kubernetes v1.20.2 from Debian bookworm's `kubernetes` source package, with its
# full vendor/ tree) and etcd 3.4 (Debian's etcd-server .deb, unpacked, so no service starts).
# Cache: $SPO_KUBE_CACHE (default /var/cache/spo-kube), outside the clone, so a second run is a
# no-op. Cold build: about 7 minutes on 2 cores. Tests only: it is an old release, on loopback.
# Usage: scripts/kube-build.sh            (prints the bin directory on success)
set -euo pipefail
OUT=${SPO_KUBE_CACHE:-/var/cache/spo-kube}
BIN="$OUT/bin"
have() { for b in kube-apiserver kube-controller-manager kube-scheduler etcd; do [ -x "$BIN/$b" ] || return 1; done; }
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
# kubectl: keep a newer one that is already installed; else Debian's (1.20, the server's).
if ! command -v kubectl >/dev/null; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends kubernetes-client >/dev/null
fi
if have; then echo "kube test binaries cached in $BIN"; exit 0; fi
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
# One build at a time per machine: a second caller waits for the first one's result.
mkdir -p "$OUT" 2>/dev/null || $SUDO mkdir -p "$OUT"
exec 9>"$OUT/.build.lock"
flock 9
if have; then echo "kube test binaries cached in $BIN"; exit 0; fi
W=$(mktemp -d /tmp/spo-kube-build.XXXXXX); trap 'rm -rf "$W"' EXIT
mkdir -p "$W/parts" "$W/lists/partial" "$BIN"
# deb-src entries derived from the machine's own Debian entries (no host is named here).
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] && sed 's/^Types: deb$/Types: deb-src/' "$f" > "$W/parts/$(basename "$f")"
done
if [ -f /etc/apt/sources.list ]; then sed -n 's/^deb /deb-src /p' /etc/apt/sources.list > "$W/parts/extra.list"; fi
A=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$W/parts" -o "Dir::State::Lists=$W/lists")
need=""; for p in golang-go rsync make; do dpkg-query -W -f='${Status}' $p 2>/dev/null | grep -q "ok installed" || need="$need $p"; done
if [ -n "$need" ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
$SUDO apt-get "${A[@]}" update -qq
cd "$W"
apt-get "${A[@]}" source --download-only kubernetes >/dev/null
apt-get download golang-github-modern-go-reflect2-dev etcd-server >/dev/null
tar xzf kubernetes_*.orig.tar.gz
dpkg -x golang-github-modern-go-reflect2-dev_*.deb r2
dpkg -x etcd-server_*.deb etcd
cd kubernetes-1.20.2
# The vendored modern-go/reflect2 1.0.1 crashes under Go >= 1.18 on the first custom-resource
# write; Debian's 1.0.2 source is a drop-in replacement.
V=vendor/github.com/modern-go/reflect2
rm -f "$V"/*.go "$V"/*.s
cp ../r2/usr/share/gocode/src/github.com/modern-go/reflect2/*.go "$V"/
cp ../r2/usr/share/gocode/src/github.com/modern-go/reflect2/*.s "$V"/ 2>/dev/null || true
# The source tarball has no .git: the version comes from a file.
printf "KUBE_GIT_COMMIT='faecb196815e248d3ecfb03c680a4507229c2a56'\nKUBE_GIT_TREE_STATE='archive'\nKUBE_GIT_VERSION='v1.20.2'\nKUBE_GIT_MAJOR='1'\nKUBE_GIT_MINOR='20'\n" > ../ver.env
make WHAT="cmd/kube-apiserver cmd/kube-controller-manager cmd/kube-scheduler" KUBE_GIT_VERSION_FILE="$W/ver.env" > ../build.log 2>&1 \
  || { tail -40 ../build.log; exit 1; }
# Copy to temporary names, then rename: a reader never sees a half-written binary.
for b in kube-apiserver kube-controller-manager kube-scheduler; do cp "_output/bin/$b" "$BIN/.$b.tmp"; done
cp ../etcd/usr/bin/etcd "$BIN/.etcd.tmp"
for b in etcd kube-controller-manager kube-scheduler kube-apiserver; do mv "$BIN/.$b.tmp" "$BIN/$b"; done
echo "kube test binaries built into $BIN"
