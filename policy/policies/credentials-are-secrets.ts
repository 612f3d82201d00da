import { EnforcementLevel, ResourceValidationArgs, ResourceValidationPolicy, Secret } from "@pulumi/policy";
import { T } from "../lib";

/** Fields that grant access, per resource type, as property paths. */
export const CREDENTIAL_FIELDS: Record<string, string[][]> = {
    [T.vsphereProvider]: [["password"]],
    [T.remoteCommand]: [["connection", "privateKey"], ["connection", "password"], ["connection", "privateKeyPassword"]],
    [T.kubernetesProvider]: [["kubeconfig"]],
};

/** remote.Command fields that are stored and shown in plain text, so a credential must never be written into them. */
const PLAIN_COMMAND_FIELDS = ["create", "update", "delete", "triggers"];
const PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;

const SPECIAL = { is: "__isSpecialProxy", target: "__getSpecialProxyTarget" } as const;

/** The raw object behind the policy SDK's proxies, where secrets are still `Secret` instances. */
function unproxy(v: unknown): unknown {
    let cur = v as Record<string, unknown> | undefined;
    while (cur !== null && typeof cur === "object" && cur[SPECIAL.is] === true) cur = cur[SPECIAL.target] as Record<string, unknown>;
    return cur;
}

/** A kubeconfig given as a file path holds no credential itself; a kubeconfig document does. */
function isCredential(path: string[], value: unknown): boolean {
    if (typeof value !== "string" || value === "") return false;
    return path[0] !== "kubeconfig" || /\bclusters\s*:|"clusters"\s*:/.test(value);
}

/**
 * Wraps every plain-text credential field in a `Secret`, so it is encrypted in state and masked in
 * output. Returns undefined when every credential already is a secret.
 */
export function wrapCredentials(type: string, props: Record<string, unknown>): Record<string, unknown> | undefined {
    const fields = CREDENTIAL_FIELDS[type];
    if (fields === undefined) return undefined;
    const raw = unproxy(props) as Record<string, unknown>;
    const out: Record<string, unknown> = { ...raw };
    let changed = false;
    for (const path of fields) {
        let parent: Record<string, unknown> = out;
        let ok = true;
        for (const key of path.slice(0, -1)) {
            const next = unproxy(parent[key]);
            if (next instanceof Secret || next === null || typeof next !== "object") {
                ok = false;
                break;
            }
            parent = parent[key] = { ...(next as Record<string, unknown>) };
        }
        const leafKey = path[path.length - 1];
        const leaf = ok ? unproxy(parent[leafKey]) : undefined;
        if (ok && !(leaf instanceof Secret) && isCredential(path, leaf)) {
            parent[leafKey] = new Secret(leaf);
            changed = true;
        }
    }
    return changed ? out : undefined;
}

/**
 * Credentials (vCenter password, SSH keys, kubeconfigs) stay Pulumi secrets. A remediation makes any
 * plain-text credential input a secret; validation rejects private keys written into remote
 * command lines or triggers, which are stored and printed in plain text.
 */
export function credentialsAreSecrets(level: EnforcementLevel): ResourceValidationPolicy {
    return {
        name: "credentials-are-secrets",
        description: "Passwords, private keys and kubeconfigs are Pulumi secrets and never appear in plain-text fields.",
        enforcementLevel: level,
        severity: "critical",
        remediateResource: (args: ResourceValidationArgs) => wrapCredentials(args.type, args.props),
        validateResource: (args, reportViolation) => {
            if (args.type !== T.remoteCommand) return;
            for (const field of PLAIN_COMMAND_FIELDS) {
                const v = args.props[field];
                const texts = Array.isArray(v) ? v : [v];
                if (texts.some((t) => typeof t === "string" && PRIVATE_KEY.test(t))) {
                    reportViolation(`${field} contains a private key in plain text; pass it as connection.privateKey from the secret groundwork:sshPrivateKey`);
                }
            }
        },
    };
}
