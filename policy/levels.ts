import { EnforcementLevel, Policies, PolicyPackConfig } from "@pulumi/policy";
import { GUARDRAILS } from "./policies";

export const LEVELS: readonly EnforcementLevel[] = ["advisory", "mandatory", "remediate", "disabled"];

/**
 * Defaults: what can lose the cluster or leak access blocks a deployment (mandatory); hygiene that
 * a team may stage in warns (advisory); plain-text credentials are fixed on the fly (remediate).
 */
export const DEFAULT_LEVELS: Record<string, EnforcementLevel> = {
    "control-plane-quorum": "mandatory",
    "control-plane-anti-affinity": "mandatory",
    "admin-ports-not-world-open": "mandatory",
    "no-insecure-registries": "mandatory",
    "pinned-images": "advisory",
    "pinned-chart-versions": "mandatory",
    "etcd-snapshots-enabled": "mandatory",
    "credentials-are-secrets": "remediate",
    "protect-cluster-critical": "advisory",
    "ssh-key-auth-only": "mandatory",
    "verified-tls": "advisory",
    "ports-planned-and-guarded": "advisory",
};

/**
 * Merges a pack config (the `--policy-pack-config` shape: policy name → level or
 * `{enforcementLevel}`) over the defaults. Throws one message listing every unknown name or level.
 */
export function resolveLevels(config: unknown = {}): Record<string, EnforcementLevel> {
    const levels = { ...DEFAULT_LEVELS };
    const problems: string[] = [];
    if (config === null || typeof config !== "object" || Array.isArray(config)) {
        throw new Error("policy config must be an object of policy name → enforcement level");
    }
    for (const [name, value] of Object.entries(config as Record<string, unknown>)) {
        const level = typeof value === "object" && value !== null ? (value as { enforcementLevel?: unknown }).enforcementLevel : value;
        if (!(name in GUARDRAILS)) problems.push(`${name}: unknown policy; known: ${Object.keys(GUARDRAILS).sort().join(", ")}`);
        else if (level === undefined) continue;
        else if (!LEVELS.includes(level as EnforcementLevel)) problems.push(`${name}: enforcement level must be one of ${LEVELS.join(", ")}, got ${JSON.stringify(level)}`);
        else levels[name] = level as EnforcementLevel;
    }
    if (problems.length > 0) throw new Error(problems.join("\n"));
    return levels;
}

/** Every guardrail built at its level. */
export function buildPolicies(levels: Record<string, EnforcementLevel>): Policies {
    return Object.entries(GUARDRAILS).map(([name, make]) => make(levels[name] ?? DEFAULT_LEVELS[name]));
}

/** The levels as the pack's initial config, so `pulumi policy` shows the defaults. */
export function asPackConfig(levels: Record<string, EnforcementLevel>): PolicyPackConfig {
    return Object.fromEntries(Object.entries(levels).map(([name, level]) => [name, { enforcementLevel: level }]));
}
