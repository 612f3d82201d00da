# shellcheck shell=bash
# Source this file to use the Kubernetes binaries built by tools/kubernetes/build.sh:
#   source tools/kubernetes/env.sh
# GROUNDWORK_K8S_BIN is the folder with kubeadm, kubectl, kube-apiserver, etcd, … (symlinks into
# the per-version builds). Safe under `set -euo pipefail`; sets variables only.
export GROUNDWORK_K8S_DIR="${GROUNDWORK_CACHE:-$HOME/.cache/groundwork}/kubernetes"
export GROUNDWORK_K8S_BIN="${GROUNDWORK_K8S_DIR}/bin"
# GROUNDWORK_K8S_BIN_NEXT: the upgrade target's set (build.sh --next), Kubernetes 1.34 over the same tools.
export GROUNDWORK_K8S_BIN_NEXT="${GROUNDWORK_K8S_DIR}/bin-next"
