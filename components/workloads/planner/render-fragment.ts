import { stringify } from "yaml";
import { Role, UNCLASSIFIED } from "./inventory";
import { MigrationPlan } from "./plan";

/** Where the fragment's worker group goes. */
export interface FragmentTarget {
    /** Worker group name (machines.workers.<group>). Defaults to `migrated`. */
    group: string;
    backend: "openstack" | "vsphere";
    /** network.pools entry the group allocates from. */
    pool: string;
    /** apps.profile. */
    profile: "dev" | "qa" | "prod";
    /** vSphere disk per worker, GiB. */
    diskGiB: number;
}

export interface AppWorkload {
    role: Role;
    replicas?: number;
    cpuMillis?: number;
    memoryMiB?: number;
    storageGiB?: number;
}

/** The `groundwork:platform` fragment as an object: machines.workers.<group> and apps. */
export function fragmentObject(plan: MigrationPlan, t: FragmentTarget): { machines: { workers: Record<string, Record<string, unknown>> }; apps: { profile: string; workloads: Record<string, AppWorkload> } } {
    const workers: Record<string, Record<string, unknown>> = {};
    const o = plan.chosen === undefined ? undefined : plan.options[plan.chosen];
    if (o && plan.after) {
        const sizing = t.backend === "openstack" ? { flavor: o.size.name } : { cpus: o.size.cpus, memoryMiB: o.size.memoryMiB, diskGiB: t.diskGiB };
        workers[t.group] = { count: plan.after.machines, backend: t.backend, pool: t.pool, ...sizing, labels: { "node.groundwork.io/tier": t.group } };
    }
    const workloads: Record<string, AppWorkload> = {};
    for (const w of [...plan.workloads].sort((a, b) => a.name.localeCompare(b.name))) {
        if (w.role === UNCLASSIFIED) continue;
        workloads[w.name] = { role: w.role, replicas: 1, cpuMillis: w.sizing.cpuMillis, memoryMiB: w.sizing.memoryMiB, ...(w.storageGiB !== undefined ? { storageGiB: w.storageGiB } : {}) };
    }
    return { machines: { workers }, apps: { profile: t.profile, workloads } };
}

/** fragment.yaml: a stack-file fragment to merge under `config:` of a Pulumi.<stack>.yaml. */
export function renderFragment(plan: MigrationPlan, t: FragmentTarget): string {
    const obj = fragmentObject(plan, t);
    const unclassified = plan.workloads.filter((w) => w.role === UNCLASSIFIED).map((w) => w.name);
    const head = [
        "# groundwork migrate plan: stack config fragment (merge under config: of a Pulumi.<stack>.yaml).",
        `# machines.workers.${t.group} takes pool "${t.pool}" from position 1: drop other worker groups on that pool or give it its own.`,
        `# The count includes ${plan.settings.failover} failover spare node(s).`,
        unclassified.length > 0 ? `# Not in apps (unclassified, give them a role with --overrides): ${unclassified.join(", ")}` : "# Every VM has a role.",
    ];
    return `${head.join("\n")}\n${stringify({ config: { "groundwork:platform": obj } }, { sortMapEntries: false, lineWidth: 0 })}`;
}
