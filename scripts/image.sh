#!/usr/bin/env bash
# Builds the operator's container image without pulling any base image: the spo-operator
# binary (debug info stripped) and exactly the shared libraries it links, plus /etc/passwd and
# /etc/group for uid/gid 65535, as one reproducible layer (sorted, mtime 0, numeric owners),
# written as an OCI image layout. One image, every sub-command (ARCH-01).
# Env: SPO_OPERATOR_BIN (default target/release/spo-operator), SPO_IMAGE_DIR (default
# target/image), SPO_IMAGE_TAG (default latest), SPO_IMAGE_PUSH (e.g.
# 127.0.0.1:5000/spo-operator:latest: copy there with skopeo, plain HTTP allowed).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${SPO_OPERATOR_BIN:-target/release/spo-operator}
OUT=${SPO_IMAGE_DIR:-target/image}
TAG=${SPO_IMAGE_TAG:-latest}
[ -x "$BIN" ] || { echo "missing $BIN: cargo build --release -p spo-operator (make image does)" >&2; exit 2; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
root="$work/rootfs"
mkdir -p "$root/usr/bin" "$root/etc" "$root/tmp" "$root/home"
chmod 1777 "$root/tmp"
install -m 0755 "$BIN" "$root/usr/bin/spo-operator"
strip --strip-debug "$root/usr/bin/spo-operator"
# The dynamic loader and every library ldd resolves, at the same paths.
for lib in $(ldd "$BIN" | grep -o '/[^ )]*'); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
printf 'root:x:0:0:root:/root:/sbin/nologin\nspo:x:65535:65535:spo:/home:/sbin/nologin\n' > "$root/etc/passwd"
printf 'root:x:0:\nspo:x:65535:\n' > "$root/etc/group"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$root" -cf "$work/layer.tar" .
diff_id=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
gzip -n -6 "$work/layer.tar"
rm -rf "$OUT"; mkdir -p "$OUT/blobs/sha256"
blob() { # file → prints "digest size", moved into blobs/
  local d s; d=$(sha256sum "$1" | cut -d' ' -f1); s=$(stat -c %s "$1")
  mv "$1" "$OUT/blobs/sha256/$d"; echo "$d $s"
}
read -r layer_d layer_s < <(blob "$work/layer.tar.gz")
version=$("$BIN" version 2>/dev/null | awk '{print $2}' || echo unknown)
cat > "$work/config.json" <<JSON
{"architecture":"amd64","os":"linux","config":{"User":"65535:65535","Entrypoint":["/usr/bin/spo-operator"],"Env":["PATH=/usr/bin"],"WorkingDir":"/","Labels":{"org.opencontainers.image.title":"spo-operator","org.opencontainers.image.version":"$version","org.opencontainers.image.description":"spo: the Security Profiles Operator in Rust"}},"rootfs":{"type":"layers","diff_ids":["sha256:$diff_id"]},"history":[{"created_by":"scripts/image.sh"}]}
JSON
read -r cfg_d cfg_s < <(blob "$work/config.json")
cat > "$work/manifest.json" <<JSON
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:$cfg_d","size":$cfg_s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:$layer_d","size":$layer_s}]}
JSON
read -r man_d man_s < <(blob "$work/manifest.json")
echo '{"imageLayoutVersion":"1.0.0"}' > "$OUT/oci-layout"
cat > "$OUT/index.json" <<JSON
{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:$man_d","size":$man_s,"annotations":{"org.opencontainers.image.ref.name":"$TAG"}}]}
JSON
echo "image: oci:$OUT:$TAG (manifest sha256:$man_d, layer $((layer_s / 1024)) KiB)"
if [ -n "${SPO_IMAGE_PUSH:-}" ]; then
  skopeo copy --quiet --dest-tls-verify=false "oci:$OUT:$TAG" "docker://$SPO_IMAGE_PUSH"
  echo "pushed: $SPO_IMAGE_PUSH"
fi
