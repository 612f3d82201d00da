/** The five roles of the application matrix, in the order rules try them (most specific first). */
export const ROLES = ["analytics-db", "user-db", "queue", "web-api", "static-site"] as const;
export type Role = (typeof ROLES)[number];
/** A VM the rules could not place in a role (and no override names one). */
export const UNCLASSIFIED = "unclassified";
export type RoleOrUnclassified = Role | typeof UNCLASSIFIED;

/** One VM as read from an inventory, sizes normalised to vCPUs, MiB and GiB. */
export interface Vm {
    name: string;
    vcpus: number;
    memoryMiB: number;
    /** Provisioned disk, GiB. */
    diskGiB?: number;
    /** Disk actually in use, GiB (RVTools "In Use MiB"). */
    diskUsedGiB?: number;
    /** CPU utilisation at `percentile`, percent of the VM's vCPUs (0–100). */
    cpuPercent?: number;
    /** Memory utilisation at `percentile`, percent of the VM's memory (0–100). */
    memPercent?: number;
    /** Which percentile the utilisation figures are (95 for p95); "last" for one sample (vSphere quick stats). */
    percentile?: number | "last";
    image?: string;
    os?: string;
    ports: number[];
    metadata: Record<string, string>;
    /** Hypervisor host, when the inventory says (counts the "before" hosts). */
    host?: string;
    poweredOn: boolean;
    /** Where it came from, for messages: `inventory.csv:12`, `govc:vm/web-01`, `openstack:server/<id>`. */
    where: string;
}

/** One problem with the inventory, one line each. */
export interface InventoryIssue {
    where: string;
    message: string;
    /** `left-out`: this VM is not in the plan, the rest is; `fatal`: no safe plan can be made. */
    effect: "left-out" | "fatal" | "note";
}

export interface Inventory {
    /** What was read, for the plan's header: `csv inventory.csv`, `rvtools vInfo.csv`, … */
    source: string;
    vms: Vm[];
    issues: InventoryIssue[];
}

export const issueLine = (i: InventoryIssue): string => `${i.where}: ${i.message}`;

/**
 * Drops every later VM whose name repeats an earlier one (names become workload names, which must
 * be unique), with one line per duplicate naming the first occurrence.
 */
export function dropDuplicates(inv: Inventory): Inventory {
    const first = new Map<string, Vm>();
    const vms: Vm[] = [];
    const issues = [...inv.issues];
    for (const vm of inv.vms) {
        const prev = first.get(vm.name.toLowerCase());
        if (prev) {
            issues.push({ where: vm.where, message: `duplicate name "${vm.name}" (first at ${prev.where}); left out, rename one of them`, effect: "left-out" });
            continue;
        }
        first.set(vm.name.toLowerCase(), vm);
        vms.push(vm);
    }
    return { ...inv, vms, issues: inFileOrder(issues) };
}

/** Issues of `file:line` places sorted by line (stable; other places keep their order, first). */
export function inFileOrder(issues: InventoryIssue[]): InventoryIssue[] {
    const line = (i: InventoryIssue) => Number(/:(\d+)$/.exec(i.where)?.[1] ?? -1);
    return issues.map((i, k) => ({ i, k })).sort((a, b) => line(a.i) - line(b.i) || a.k - b.k).map((x) => x.i);
}
