import { renderUserData } from "../components/engine/bootstrap";
import { userDataTooLarge } from "../components/machines/userdata-limits";
import { PlatformSpec, Problem } from "../components/platform/config";
import { RenderedStack } from "./commands/render";

/**
 * Upper bounds (bytes) of what the Pulumi program puts where `groundwork render` shows a
 * placeholder, so a size check on the render holds for the deployed user-data too. PEMs: the
 * cluster CA and its key are RSA-2048 (a certificate ≈ 1.2 KB, a PKCS#1 key ≈ 1.7 KB), the
 * registry's ECDSA P-256 (≈ 0.7 KB); 2,048 covers each. A name not listed counts 4,096 bytes.
 */
export const PLACEHOLDER_MAX_BYTES: Record<string, number> = {
    "bootstrap-token": 23,
    "certificate-key": 64,
    "cluster-ca": 2048,
    "cluster-ca-key": 2048,
    "cluster-ca-hash": 71,
    "registry-ca": 2048,
    "registry-cert": 2048,
    "registry-key": 2048,
    "registry-password": 64,
    "registry-password-bcrypt": 64,
};
const UNKNOWN_PLACEHOLDER_BYTES = 4096;

/** A stand-in of `bytes` bytes, shaped like the value: 64-character lines for a PEM (their YAML indentation counts). */
function standIn(name: string, bytes: number): string {
    if (!/(^|-)(ca|cert|key)$/.test(name) || name === "certificate-key") return "x".repeat(bytes);
    const line = "A".repeat(64);
    return Array.from({ length: Math.ceil(bytes / 65) }, () => line).join("\n");
}

/** The user-data of a rendered script with every placeholder at its largest. */
export function largestUserData(spec: PlatformSpec, hostname: string, script: string): string {
    const filled = script.replace(/@@GROUNDWORK:([a-z0-9][a-z0-9-]*)@@/g, (_, name: string) => standIn(name, PLACEHOLDER_MAX_BYTES[name] ?? UNKNOWN_PLACEHOLDER_BYTES));
    const c = spec.config.machines;
    return renderUserData({ hostname, sshUser: c.sshUser, sshAuthorizedKeys: c.sshAuthorizedKeys }, filled);
}

function groupPath(group: string): string {
    return group === "controlPlane" || group === "registry" ? `platform.machines.${group}` : `platform.machines.workers.${group}`;
}

/** Every VM whose user-data (deploy-time values at their largest) its backend would refuse, named with its size. */
export function userDataProblems(spec: PlatformSpec, rendered: RenderedStack): Problem[] {
    const problems: Problem[] = [];
    for (const r of rendered.machines) {
        const why = userDataTooLarge(r.machine.name, r.machine.backend, largestUserData(spec, r.machine.name, r.script));
        if (why !== undefined) problems.push({ path: groupPath(r.machine.group), message: why });
    }
    return problems;
}
