import { shq } from "../engine/bootstrap";

/**
 * Join material: what lets a machine into the cluster (a bootstrap token, the certificate key of
 * kubeadm's uploaded control-plane certificates, and for the first control plane the CA key).
 * None of it is in user-data or guestinfo: the Pulumi program delivers it over SSH into a
 * root-only file that the bootstrap waits for, reads once, and removes after init or join.
 */

/** Root-only file the join material lands in. */
export const JOIN_MATERIAL_PATH = "/etc/groundwork/join.env";

/** How long a registered join token is valid: long enough for one machine's join, never forever. */
export const JOIN_TOKEN_TTL = "2h";

/** Seconds the register step waits for kubeadm on the first control plane to answer. */
export const REGISTER_WAIT_SECONDS = 1800;

/** Marker for the token in the kubeadm config templates; the bootstrap fills it from the join material. */
export const TOKEN_MARKER = "@JOIN_TOKEN@";
/** Marker for the certificate key in the kubeadm config templates. */
export const CERTIFICATE_KEY_MARKER = "@CERTIFICATE_KEY@";

/** One machine's join material (plain strings; the caller keeps them Pulumi secrets). */
export interface JoinMaterial {
    /** `[a-z0-9]{6}.[a-z0-9]{16}`, registered for this machine only. */
    token: string;
    /** Control planes: 64 hex characters. */
    certificateKey?: string;
    /** The first control plane: PEM of the cluster CA's private key. */
    caKeyPem?: string;
}

/** The names a machine's join material holds, in the order of JoinMaterial (for plan.json). */
export function joinMaterialNames(role: "first-control-plane" | "control-plane" | "worker"): string[] {
    if (role === "worker") return ["token"];
    return role === "control-plane" ? ["token", "certificate-key"] : ["token", "certificate-key", "ca-key"];
}

/** The join material file: `name=value` lines; the CA key as one base64 line. Pure. */
export function renderJoinMaterial(m: JoinMaterial): string {
    if (!/^[a-z0-9]{6}\.[a-z0-9]{16}$/.test(m.token)) throw new Error("join material: the token is not in kubeadm's [a-z0-9]{6}.[a-z0-9]{16} format");
    if (m.certificateKey !== undefined && !/^[0-9a-f]{64}$/.test(m.certificateKey)) throw new Error("join material: the certificate key is not 64 hex characters");
    const lines = [`token=${m.token}`];
    if (m.certificateKey !== undefined) lines.push(`certificate-key=${m.certificateKey}`);
    if (m.caKeyPem !== undefined) lines.push(`ca-key=${Buffer.from(m.caKeyPem, "utf8").toString("base64")}`);
    return lines.join("\n") + "\n";
}

export { asRoot } from "../kit/shell";
import { asRoot } from "../kit/shell";

/** Bash: writes stdin (the join material) to the root-only file, atomically, never readable by others. */
export const RECEIVE_JOIN_BODY = [
    "set -euo pipefail",
    "umask 077",
    `[ -d ${JOIN_MATERIAL_PATH.replace(/\/[^/]+$/, "")} ] || install -d -m 0755 ${JOIN_MATERIAL_PATH.replace(/\/[^/]+$/, "")}`,
    `cat > ${JOIN_MATERIAL_PATH}.new`,
    `chmod 0600 ${JOIN_MATERIAL_PATH}.new`,
    `mv -f ${JOIN_MATERIAL_PATH}.new ${JOIN_MATERIAL_PATH}`,
    'echo "[groundwork] join material delivered to $(hostname)"',
].join("\n");

/** The delivery command: RECEIVE_JOIN_BODY as root. */
export const RECEIVE_JOIN_MATERIAL = asRoot(RECEIVE_JOIN_BODY);

/**
 * Run as root on the first control plane, join material on stdin: registers the machine's own
 * token with a bounded TTL (deleting an earlier one of the same id, so a re-run refreshes it) and,
 * for a control plane, uploads the control-plane certificates again under the certificate key
 * (kubeadm's copy expires two hours after init). kubeadm's output, which repeats both, is discarded.
 */
export function registerJoinBody(node: string, clusterConfigPath: string): string {
    return [
        "set -euo pipefail",
        "material=$(cat)",
        "token=$(sed -n 's/^token=//p' <<<\"$material\")",
        "key=$(sed -n 's/^certificate-key=//p' <<<\"$material\")",
        "export KUBECONFIG=/etc/kubernetes/admin.conf",
        "start=$SECONDS",
        "until [ -s \"$KUBECONFIG\" ] && kubeadm token list >/dev/null 2>&1; do",
        `  if [ $((SECONDS - start)) -ge ${REGISTER_WAIT_SECONDS} ]; then`,
        `    echo "[groundwork] kubeadm on $(hostname) did not answer within $((SECONDS - start))s; cannot register the join of ${node}: is the control plane initialised?" >&2`,
        "    exit 1",
        "  fi",
        "  sleep 5",
        "done",
        'kubeadm token delete "${token%%.*}" >/dev/null 2>&1 || true',
        `kubeadm token create "$token" --ttl ${JOIN_TOKEN_TTL} --description ${shq(`groundwork: join of ${node}`)} >/dev/null`,
        'if [ -n "$key" ]; then',
        `  kubeadm init phase upload-certs --upload-certs --certificate-key "$key" --config ${shq(clusterConfigPath)} >/dev/null`,
        "fi",
        `echo "[groundwork] join of ${node} registered on $(hostname), valid ${JOIN_TOKEN_TTL}"`,
    ].join("\n");
}

/** The register command: registerJoinBody as root. */
export function registerJoinScript(node: string, clusterConfigPath: string): string {
    return asRoot(registerJoinBody(node, clusterConfigPath));
}
