#!/usr/bin/env bash
# A one-layer OCI image (image-layout tar) holding Debian's static busybox; no docker needed.
#
# usage: tools/guest/tiny-image.sh OUT.tar [NAME:TAG]
#
# NAME:TAG defaults to groundwork/tiny:1.0 (stored as docker.io/groundwork/tiny:1.0 in the
# io.containerd.image.name annotation). Entry point: /bin/busybox echo hello.
# In a guest:  ctr -n k8s.io images import OUT.tar
#              ctr -n k8s.io run --rm docker.io/groundwork/tiny:1.0 t1      # prints hello
# The output is byte-for-byte reproducible for a given busybox-static package.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tools/guest/lib.sh
source "$HERE/lib.sh"

[[ $# -ge 1 && $# -le 2 && $1 != -* ]] || die "usage: tiny-image.sh OUT.tar [NAME:TAG]"
out=$1
ref=${2:-groundwork/tiny:1.0}
[[ $ref =~ ^[a-z0-9]([a-z0-9._/-]*[a-z0-9])?(:[0-9]+)?([a-z0-9._/-]*[a-z0-9])?:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] \
  || die "'$ref' is not an image reference of the form name:tag"
[[ -d $(dirname "$out") ]] || die "folder of '$out' does not exist"
tag=${ref##*:}
repo=${ref%:*}
first=${repo%%/*}
# Same normalisation as docker/containerd: no registry host means Docker Hub.
if [[ $repo != */* ]]; then
  full=docker.io/library/$repo:$tag
elif [[ $first == *.* || $first == *:* || $first == localhost ]]; then
  full=$repo:$tag
else
  full=docker.io/$repo:$tag
fi

need_pkgs dpkg-deb:dpkg sha256sum:coreutils gzip:gzip
cache=$GW_GUEST_CACHE/tiny
mkdir -p "$cache"
shopt -s nullglob
debs=("$cache"/busybox-static_*.deb)
if [[ ${#debs[@]} -eq 0 ]]; then
  log "downloading busybox-static"
  (cd "$cache" && apt-get -q -o APT::Sandbox::User=root download busybox-static >/dev/null) \
    || die "apt-get download busybox-static failed (run apt-get update?)"
  debs=("$cache"/busybox-static_*.deb)
fi
deb=${debs[-1]}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dpkg-deb -x "$deb" "$work/pkg"
mkdir -p "$work/rootfs/bin" "$work/rootfs/tmp" "$work/layout/blobs/sha256"
cp "$work/pkg/bin/busybox" "$work/rootfs/bin/busybox"
chmod 0755 "$work/rootfs/bin/busybox"
chmod 1777 "$work/rootfs/tmp"

# Deterministic tar: fixed order, owner and time.
det_tar() {
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu "$@"
}
sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }
blob() { # blob FILE: move FILE into the layout under its digest, print the digest
  local d
  d=$(sha "$1")
  mv "$1" "$work/layout/blobs/sha256/$d"
  echo "$d"
}

det_tar -C "$work/rootfs" -cf "$work/layer.tar" bin tmp
diff_id=$(sha "$work/layer.tar")
gzip -9n "$work/layer.tar"
layer_size=$(size "$work/layer.tar.gz")
layer=$(blob "$work/layer.tar.gz")

printf '{"architecture":"amd64","config":{"Entrypoint":["/bin/busybox","echo","hello"],"Env":["PATH=/bin"]},"created":"1970-01-01T00:00:00Z","history":[{"created":"1970-01-01T00:00:00Z","created_by":"groundwork tools/guest/tiny-image.sh"}],"os":"linux","rootfs":{"diff_ids":["sha256:%s"],"type":"layers"}}' \
  "$diff_id" >"$work/config.json"
config_size=$(size "$work/config.json")
config=$(blob "$work/config.json")

printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
  "$config" "$config_size" "$layer" "$layer_size" >"$work/manifest.json"
manifest_size=$(size "$work/manifest.json")
manifest=$(blob "$work/manifest.json")

printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"amd64","os":"linux"},"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
  "$manifest" "$manifest_size" "$full" "$tag" >"$work/layout/index.json"
printf '{"imageLayoutVersion":"1.0.0"}' >"$work/layout/oci-layout"

det_tar -C "$work/layout" -cf "$work/image.tar" oci-layout index.json blobs
mv "$work/image.tar" "$out"
log "wrote $out: $full, $(( $(size "$out") / 1024 )) KiB, manifest sha256:$manifest ($(basename "$deb"))"
echo "TINY_IMAGE=$full"
echo "TINY_IMAGE_TAR=$out"
