# shellcheck shell=bash
# Source this file to use the Pulumi engine built by tools/toolchain/build.sh:
#   source tools/toolchain/env.sh
# It puts the built `pulumi` CLI and Node.js language host first on PATH and keeps Pulumi's
# own state (plugins, credentials) inside the toolchain cache, never in ~/.pulumi.
# Safe under `set -euo pipefail`; sets variables only.

# The engine version matches the @pulumi/pulumi npm package in package.json.
export GROUNDWORK_PULUMI_VERSION="3.248.0"
export GROUNDWORK_PULUMI_DIR="${GROUNDWORK_CACHE:-$HOME/.cache/groundwork}/pulumi"

case ":${PATH}:" in
  *":${GROUNDWORK_PULUMI_DIR}/bin/cli-${GROUNDWORK_PULUMI_VERSION}:"*) ;;
  *) export PATH="${GROUNDWORK_PULUMI_DIR}/bin/cli-${GROUNDWORK_PULUMI_VERSION}:${GROUNDWORK_PULUMI_DIR}/bin/nodejs-${GROUNDWORK_PULUMI_VERSION}:${PATH}" ;;
esac

export PULUMI_HOME="${GROUNDWORK_PULUMI_DIR}/home"
export PULUMI_SKIP_UPDATE_CHECK=1
# No network to get.pulumi.com here: a missing plugin must fail fast, not hang on a download.
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
