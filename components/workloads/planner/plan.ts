import { classify, Classification } from "./classify";
import { Inventory, InventoryIssue, Role, RoleOrUnclassified, ROLES, UNCLASSIFIED, Vm } from "./inventory";
import { Demand, fits, lowerBound, packAcross, Packing } from "./pack";
import { rightSize, Sizing } from "./rightsize";
import { allocatable, hypervisorMemoryMiB, nodeReserve, PlannerSettings, WorkerSize } from "./settings";

/** One VM as a container workload. */
export interface PlannedWorkload {
    vm: Vm;
    /** DNS-label name of the workload (the VM name, lower-cased, other characters → "-"). */
    name: string;
    role: RoleOrUnclassified;
    reason: string;
    sizing: Sizing;
    /** Persistent volume for the stateful roles: the disk in use, else the provisioned disk. */
    storageGiB?: number;
}

/** The plan for one worker size. */
export interface SizeOption {
    size: WorkerSize;
    reserve: Demand;
    allocatable: Demand;
    /** Whether every workload fits on one node of this size. */
    eligible: boolean;
    lowerBound?: number;
    packing?: Packing;
    /** Packed nodes + failover spares. */
    total?: number;
    /** Nodes × size relative to the demand, CPU and memory added (smaller is tighter). */
    score?: number;
}

export interface Footprint {
    machines: number;
    cores: number;
    memoryGiB: number;
}

export interface MigrationPlan {
    source: string;
    settings: PlannerSettings;
    workloads: PlannedWorkload[];
    options: SizeOption[];
    /** Index into options of the size the fragment uses; undefined when no size holds every workload. */
    chosen?: number;
    before: Footprint & { poweredOff: number; hosts?: number; vcpus: number; vmMemoryGiB: number; hypervisorMemoryGiB: number; diskGiB: number };
    after?: Footprint & { requestedCores: number; requestedMemoryGiB: number; spares: number };
    issues: InventoryIssue[];
    byRole: Record<RoleOrUnclassified, number>;
}

const STATEFUL: ReadonlySet<RoleOrUnclassified> = new Set<RoleOrUnclassified>(["user-db", "queue", "analytics-db"]);

/** Lower-case DNS labels, unique: `Web_01.corp` → `web-01-corp`; a clash gets `-2`, `-3`. */
export function workloadNames(names: readonly string[]): string[] {
    const used = new Set<string>();
    return names.map((n) => {
        let base = n.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/-+/g, "-").replace(/^-|-$/g, "").slice(0, 58).replace(/-$/, "") || "vm";
        if (!/^[a-z]/.test(base)) base = `vm-${base}`.slice(0, 58);
        let name = base;
        for (let k = 2; used.has(name); k++) name = `${base}-${k}`;
        used.add(name);
        return name;
    });
}

const gib = (mib: number) => mib / 1024;

/**
 * Plans the migration of an inventory: classify, right-size, pack onto each worker size, pick the
 * size with the smallest footprint. Pure: the same inventory and settings give the same plan.
 */
export function planMigration(inv: Inventory, settings: PlannerSettings, overrides: ReadonlyMap<string, RoleOrUnclassified> = new Map()): MigrationPlan {
    const issues = [...inv.issues];
    const names = workloadNames(inv.vms.map((v) => v.name));
    const all: PlannedWorkload[] = inv.vms.map((vm, i) => {
        const c: Classification = classify(vm, overrides);
        const disk = vm.diskUsedGiB ?? vm.diskGiB;
        return { vm, name: names[i], role: c.role, reason: c.reason, sizing: rightSize(vm, settings), storageGiB: STATEFUL.has(c.role) && disk !== undefined ? Math.max(1, Math.ceil(disk)) : undefined };
    });
    for (const name of overrides.keys()) {
        if (!inv.vms.some((v) => v.name === name)) issues.push({ where: "overrides", message: `${name}: no VM of that name in the inventory; override unused`, effect: "note" });
    }
    const options: SizeOption[] = settings.workerSizes.map((size) => ({ size, reserve: nodeReserve(size), allocatable: allocatable(size), eligible: false }));
    const largest = (d: Demand) => options.some((o) => fits(d, o.allocatable));
    const workloads: PlannedWorkload[] = [];
    for (const w of all) {
        const d = { cpuMillis: w.sizing.cpuMillis, memoryMiB: w.sizing.memoryMiB };
        if (largest(d)) workloads.push(w);
        else issues.push({ where: w.vm.where, message: `${w.vm.name}: needs ${d.cpuMillis} m CPU and ${d.memoryMiB} MiB, more than any worker size can give (${options.map((o) => `${o.size.name}: ${o.allocatable.cpuMillis} m, ${o.allocatable.memoryMiB} MiB`).join("; ")}); left out — add a larger --worker-sizes entry`, effect: "left-out" });
    }
    const demands: Demand[] = workloads.map((w) => ({ cpuMillis: w.sizing.cpuMillis, memoryMiB: w.sizing.memoryMiB }));
    const eligible = options.map((o) => demands.every((d) => fits(d, o.allocatable)));
    const caps = options.map((o, k) => ({ name: o.size.name, cap: o.allocatable, k })).filter((c) => eligible[c.k]);
    const packings = demands.length > 0 ? packAcross(demands, caps) : caps.map(() => ({ nodes: [], loads: [], method: "none" }) as Packing);
    const sumCpu = demands.reduce((a, d) => a + d.cpuMillis, 0);
    const sumMem = demands.reduce((a, d) => a + d.memoryMiB, 0);
    caps.forEach((c, j) => {
        const o = options[c.k];
        const total = packings[j].nodes.length + (demands.length > 0 ? settings.failover : 0);
        Object.assign(o, {
            eligible: true,
            lowerBound: lowerBound(demands, o.allocatable),
            packing: packings[j],
            total,
            score: sumCpu > 0 ? total * ((o.size.cpus * 1000) / sumCpu + o.size.memoryMiB / sumMem) : 0,
        });
    });
    let chosen: number | undefined;
    options.forEach((o, k) => {
        if (!o.eligible) return;
        const c = chosen === undefined ? undefined : options[chosen];
        if (!c || o.score! < c.score! - 1e-9) chosen = k;
    });
    const byRole = Object.fromEntries([...ROLES, UNCLASSIFIED].map((r) => [r, workloads.filter((w) => w.role === r).length])) as Record<RoleOrUnclassified, number>;
    const vms = workloads.map((w) => w.vm);
    const vcpus = vms.reduce((a, v) => a + v.vcpus, 0);
    const vmMem = vms.reduce((a, v) => a + v.memoryMiB, 0);
    const hvMem = vms.reduce((a, v) => a + hypervisorMemoryMiB(settings.overheads, v.vcpus, v.memoryMiB), 0);
    const hvCpu = (vms.length * settings.overheads.hypervisorCpuMillis) / 1000;
    const hosts = vms.length > 0 && vms.every((v) => v.host) ? new Set(vms.map((v) => v.host)).size : undefined;
    const before = {
        machines: vms.length,
        poweredOff: vms.filter((v) => !v.poweredOn).length,
        hosts,
        vcpus,
        cores: vcpus + hvCpu,
        vmMemoryGiB: gib(vmMem),
        hypervisorMemoryGiB: gib(hvMem),
        memoryGiB: gib(vmMem + hvMem),
        diskGiB: vms.reduce((a, v) => a + (v.diskGiB ?? 0), 0),
    };
    const c = chosen === undefined ? undefined : options[chosen];
    const after = c
        ? { machines: c.total!, spares: demands.length > 0 ? settings.failover : 0, cores: c.total! * c.size.cpus, memoryGiB: gib(c.total! * c.size.memoryMiB), requestedCores: sumCpu / 1000, requestedMemoryGiB: gib(sumMem) }
        : undefined;
    return { source: inv.source, settings, workloads, options, chosen, before, after, issues, byRole };
}

/** The roles of the matrix in a stable order, for renderers. */
export const ROLE_ORDER: RoleOrUnclassified[] = ["static-site", "web-api", "user-db", "queue", "analytics-db", UNCLASSIFIED];
export type { Role };
