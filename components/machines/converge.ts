import { remote, types } from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { APPLIED_DIGEST_PATH, BOOTSTRAP_PATH, sha256Hex } from "../engine/bootstrap";
import { asRoot } from "../kit/shell";
import { Bootstrap } from "./machine";

/**
 * Convergence: user-data (cloud-init, guestinfo) is a machine's first boot only. Every later change
 * of its rendered bootstrap reaches the machine over SSH: this script, run as root with the new
 * bootstrap on stdin, waits for the first boot to finish (cloud-init), compares the new script's
 * sha256 with the one the machine last applied (APPLIED_DIGEST_PATH, written by the bootstrap when
 * it ends well) and, only when they differ, installs it at BOOTSTRAP_PATH and runs it. The
 * bootstrap is idempotent: what did not change is left alone (`0 change(s)` for a same script).
 * The script holds no secret (the bootstrap comes on stdin).
 */
export const CONVERGE_SCRIPT = `set -euo pipefail
host=$(hostname)
new=$(mktemp)
trap 'rm -f "$new"' EXIT
cat >"$new"
if [ ! -s "$new" ]; then echo "[groundwork] $host: no bootstrap script on stdin" >&2; exit 2; fi
if [ -d /run/cloud-init ] && command -v cloud-init >/dev/null 2>&1; then
  echo "[groundwork] $host: waiting for the first boot (cloud-init) to finish"
  if ! cloud-init status --wait >/dev/null 2>&1; then
    echo "[groundwork] $host: the first boot ended in an error (cloud-init status --long); the bootstrap runs again"
  fi
fi
want=$(sha256sum <"$new" | cut -d' ' -f1)
have=$(cat ${APPLIED_DIGEST_PATH} 2>/dev/null || true)
if [ "$want" = "$have" ]; then
  echo "[groundwork] $host: bootstrap \${want:0:12} is applied; nothing to converge"
  exit 0
fi
echo "[groundwork] $host: converging to bootstrap \${want:0:12} (applied: \${have:-none})"
install -D -m 0700 -o root -g root "$new" ${BOOTSTRAP_PATH}
${BOOTSTRAP_PATH}
`;

/** The remote command: the converge script as root (directly, or through passwordless sudo). */
export const CONVERGE_COMMAND = asRoot(CONVERGE_SCRIPT);

/**
 * The digest's inputs as the converge command's environment: GROUNDWORK_BOOTSTRAP (the script's
 * sha256, 12 digits) and GROUNDWORK_PART_<NAME> per part. They are not secret (a digest reveals
 * nothing of a script holding a generated password), so `pulumi preview` shows which part changed.
 */
export function convergeEnvironment(script: string, parts: Record<string, string> | undefined): Record<string, string> {
    const env: Record<string, string> = { GROUNDWORK_BOOTSTRAP: sha256Hex(script).slice(0, 12) };
    for (const [name, digest] of Object.entries(parts ?? {})) {
        env[`GROUNDWORK_PART_${name.toUpperCase().replace(/[^A-Z0-9]+/g, "_").replace(/^_+|_+$/g, "")}`] = digest;
    }
    return env;
}

export interface ConvergeArgs {
    /** SSH to the machine (a root login or a passwordless sudoer; the key a Pulumi secret). */
    connection: pulumi.Input<types.input.remote.ConnectionArgs>;
    bootstrap: Bootstrap;
    /**
     * Inputs whose change means a new machine under the same name (the server id): the converge
     * is made again for it, which waits for its first boot. Defaults to none.
     */
    machineId?: pulumi.Input<string>;
}

/**
 * The converge run of one machine (see CONVERGE_SCRIPT). It is updated in place, never replaced,
 * when the bootstrap changes: the update runs the same script with the new bootstrap. Its outputs
 * are secret (a tool may echo a credential of the bootstrap); the progress is logged unless the
 * bootstrap itself is secret (a registry password in it).
 */
export function convergeCommand(name: string, args: ConvergeArgs, opts: pulumi.CustomResourceOptions): remote.Command {
    const script = pulumi.output(args.bootstrap.script);
    const environment = pulumi.unsecret(pulumi.all([script, args.bootstrap.digests]).apply(([s, d]) => convergeEnvironment(s, d)));
    return new remote.Command(
        name,
        {
            connection: args.connection,
            create: CONVERGE_COMMAND,
            update: CONVERGE_COMMAND,
            stdin: script,
            environment,
            ...(args.machineId !== undefined ? { triggers: [args.machineId] } : {}),
        },
        { ...opts, additionalSecretOutputs: ["stdout", "stderr"] },
    );
}
