import { PolicyPack } from "@pulumi/policy";
import * as fs from "fs";
import { asPackConfig, buildPolicies, resolveLevels } from "./levels";

/**
 * groundwork guardrails. Levels come from DEFAULT_LEVELS, overridden by the JSON file named in
 * GROUNDWORK_POLICY_CONFIG (same shape as `pulumi up --policy-pack-config`); the engine applies
 * `--policy-pack-config` on top at run time.
 */
function loadLevels() {
    const file = process.env.GROUNDWORK_POLICY_CONFIG;
    if (file === undefined || file === "") return resolveLevels();
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        throw new Error(`GROUNDWORK_POLICY_CONFIG: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    let parsed: unknown;
    try {
        parsed = JSON.parse(text);
    } catch (e) {
        throw new Error(`GROUNDWORK_POLICY_CONFIG: ${file} is not valid JSON: ${(e as Error).message}`);
    }
    return resolveLevels(parsed);
}

const levels = loadLevels();

new PolicyPack(
    "groundwork",
    {
        description: "Guardrails for groundwork platforms: etcd quorum, anti-affinity, closed admin ports, pinned versions, secrets, snapshots.",
        policies: buildPolicies(levels),
        enforcementLevel: "advisory",
    },
    asPackConfig(levels),
);
