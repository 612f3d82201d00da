/**
 * What `pulumi preview` would plan between two runs of the program under the mocks: each
 * resource's inputs (from the recorder) with its ignoreChanges option (from the captured graph),
 * compared run to run. A changed input the provider cannot update in place replaces the resource;
 * any other change updates it. Which inputs replace is the providers' own rule, copied here:
 * - openstack Instance: the top-level attributes marked ForceNew in terraform-provider-openstack
 *   v3.4.0's resource_openstack_compute_instance_v2.go (the version our bridge builds), by their
 *   Pulumi names, plus blockDevices and schedulerHints, whose every field is ForceNew;
 * - command Commands: `triggers` (the SDK's documented rule; our plugin's diff);
 * - everything else is updated in place for what groundwork changes (vSphere's extraConfig, ports, …).
 */
import { graph } from "../cluster/graph";
import { recorder } from "./mocks";

export const REPLACED_BY: Record<string, string[]> = {
    "openstack:compute/instance:Instance": ["region", "userData", "availabilityZoneHints", "availabilityZone", "networkMode", "networks", "hypervisorHostname", "configDrive", "keyPair", "blockDevices", "schedulerHints"],
    "command:remote:Command": ["triggers"],
    "command:local:Command": ["triggers"],
};

export interface Planned {
    type: string;
    name: string;
    inputs: Record<string, any>;
    ignoreChanges: string[];
}

export type Snapshot = Map<string, Planned>;

/** The run just made: every custom resource by `type::name`. */
export function snapshot(): Snapshot {
    const ignore = new Map(graph().map((n) => [`${n.type}::${n.name}`, n.ignoreChanges]));
    return new Map(recorder.registrations.map((r) => [`${r.type}::${r.name}`, { type: r.type, name: r.name, inputs: structuredClone(r.inputs), ignoreChanges: ignore.get(`${r.type}::${r.name}`) ?? [] }]));
}

/** Drops an ignoreChanges path (`a`, `a.b`, `a["b.c"]`) from a copy of the inputs. */
function without(inputs: Record<string, any>, path: string): Record<string, any> {
    const keys = [...path.matchAll(/([^.[\]"]+)|\["([^"]+)"\]/g)].map((m) => m[1] ?? m[2]);
    const copy = structuredClone(inputs);
    let at: any = copy;
    for (const k of keys.slice(0, -1)) {
        if (at === undefined || at === null) return copy;
        at = at[k];
    }
    if (at && typeof at === "object") delete at[keys[keys.length - 1]];
    return copy;
}

export interface Step {
    op: "create" | "update" | "replace" | "delete";
    type: string;
    name: string;
    /** Top-level inputs that changed (not those ignored). */
    changed: string[];
    /** Keys of a changed map input (environment, extraConfig) that changed, as `input.key`. */
    detail: string[];
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The steps from `before` to `after` (resources whose inputs are the same are left out). */
export function plan(before: Snapshot, after: Snapshot): Step[] {
    const steps: Step[] = [];
    for (const [key, b] of after) {
        const a = before.get(key);
        if (!a) {
            steps.push({ op: "create", type: b.type, name: b.name, changed: [], detail: [] });
            continue;
        }
        let ai = a.inputs;
        let bi = b.inputs;
        for (const p of b.ignoreChanges) {
            ai = without(ai, p);
            bi = without(bi, p);
        }
        const changed = [...new Set([...Object.keys(ai), ...Object.keys(bi)])].filter((k) => !same(ai[k], bi[k])).sort();
        if (changed.length === 0) continue;
        const detail = changed.flatMap((k) => {
            const x = ai[k], y = bi[k];
            if (!x || !y || typeof x !== "object" || typeof y !== "object" || Array.isArray(x)) return [];
            return [...new Set([...Object.keys(x), ...Object.keys(y)])].filter((s) => !same(x[s], y[s])).sort().map((s) => `${k}.${s}`);
        });
        const replaces = (REPLACED_BY[b.type] ?? []).some((k) => changed.includes(k));
        steps.push({ op: replaces ? "replace" : "update", type: b.type, name: b.name, changed, detail });
    }
    for (const [key, a] of before) if (!after.has(key)) steps.push({ op: "delete", type: a.type, name: a.name, changed: [], detail: [] });
    return steps.sort((x, y) => `${x.op} ${x.name}`.localeCompare(`${y.op} ${y.name}`));
}
