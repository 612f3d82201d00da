import { Inventory, InventoryIssue, Vm } from "./inventory";

// govc prints the vSphere API objects as JSON. Releases since v0.30 use the API's own lower-camel
// names (`virtualMachines[].config.hardware.numCPU`); older ones Go's (`VirtualMachines[].Config
// .Hardware.NumCPU`). Keys are therefore looked up case-insensitively.
type Json = Record<string, unknown>;

function get(o: unknown, ...path: string[]): unknown {
    let cur: unknown = o;
    for (const key of path) {
        if (cur === null || typeof cur !== "object" || Array.isArray(cur)) return undefined;
        const k = Object.keys(cur as Json).find((x) => x.toLowerCase() === key.toLowerCase());
        cur = k === undefined ? undefined : (cur as Json)[k];
    }
    return cur;
}
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** The VM objects of `govc vm.info -json` (`virtualMachines`), `govc ls -l -json` (`elements[].object`) or a bare list. */
function vmObjects(doc: unknown): unknown[] | undefined {
    if (Array.isArray(doc)) return doc;
    const vms = get(doc, "virtualMachines");
    if (Array.isArray(vms)) return vms;
    const elements = get(doc, "elements");
    if (Array.isArray(elements)) return elements.map((e) => get(e, "object")).filter((o) => get(o, "config", "hardware") !== undefined);
    return undefined;
}

/** Disk capacity in GiB: the sum of the virtual disks' capacities. */
function diskGiB(vm: unknown): number | undefined {
    const devices = get(vm, "config", "hardware", "device");
    if (!Array.isArray(devices)) return undefined;
    let bytes = 0;
    for (const d of devices) {
        const b = num(get(d, "capacityInBytes")) ?? (num(get(d, "capacityInKB")) ?? 0) * 1024;
        if (get(d, "backing", "fileName") !== undefined) bytes += b;
    }
    return bytes > 0 ? bytes / 2 ** 30 : undefined;
}

/**
 * Reads govc JSON. Sizes from `config.hardware` (numCPU, memoryMB); power from
 * `runtime.powerState`; host from `runtime.host`; OS from `guest.guestFullName` or
 * `config.guestFullName`; the quick stats (`summary.quickStats.overallCpuUsage` in MHz against
 * `runtime.maxCpuUsage`, `guestMemoryUsage` in MiB against the VM's memory) as one sample.
 */
export function readGovcJson(file: string, text: string): Inventory {
    const source = `govc ${file}`;
    const issues: InventoryIssue[] = [];
    let doc: unknown;
    try {
        doc = JSON.parse(text);
    } catch (e) {
        issues.push({ where: file, message: `is not JSON: ${(e as Error).message}`, effect: "fatal" });
        return { source, vms: [], issues };
    }
    const objects = vmObjects(doc);
    if (!objects) {
        issues.push({ where: file, message: "has no virtualMachines list; expected the output of `govc vm.info -json` or `govc ls -l -json`", effect: "fatal" });
        return { source, vms: [], issues };
    }
    const vms: Vm[] = [];
    objects.forEach((o, i) => {
        const name = str(get(o, "name")) ?? str(get(o, "config", "name"));
        const where = `${file}: virtualMachines[${i}]${name ? ` (${name})` : ""}`;
        if (!name) return issues.push({ where, message: "no name; left out", effect: "left-out" });
        if (get(o, "config", "template") === true) return issues.push({ where, message: `${name}: a template; not planned`, effect: "note" });
        const vcpus = num(get(o, "config", "hardware", "numCPU"));
        const memoryMiB = num(get(o, "config", "hardware", "memoryMB"));
        if (!vcpus || !memoryMiB || vcpus < 1 || memoryMiB <= 0) {
            return issues.push({ where, message: `${name}: no size (config.hardware numCPU ${vcpus ?? "missing"}, memoryMB ${memoryMiB ?? "missing"}); left out`, effect: "left-out" });
        }
        const power = str(get(o, "runtime", "powerState"));
        const cpuMhz = num(get(o, "summary", "quickStats", "overallCpuUsage"));
        const maxMhz = num(get(o, "runtime", "maxCpuUsage")) ?? num(get(o, "summary", "runtime", "maxCpuUsage"));
        const memUsed = num(get(o, "summary", "quickStats", "guestMemoryUsage"));
        const on = power === undefined ? true : power === "poweredOn";
        const cpuPercent = on && cpuMhz !== undefined && maxMhz ? Math.min(100, (100 * cpuMhz) / maxMhz) : undefined;
        const memPercent = on && memUsed !== undefined ? Math.min(100, (100 * memUsed) / memoryMiB) : undefined;
        const annotation = str(get(o, "config", "annotation"));
        vms.push({
            name,
            vcpus,
            memoryMiB,
            diskGiB: diskGiB(o),
            cpuPercent,
            memPercent,
            percentile: cpuPercent !== undefined || memPercent !== undefined ? "last" : undefined,
            os: str(get(o, "guest", "guestFullName")) ?? str(get(o, "config", "guestFullName")),
            ports: [],
            metadata: annotation ? { annotation } : ({} as Record<string, string>),
            host: str(get(o, "runtime", "host", "value")),
            poweredOn: on,
            where,
        });
    });
    return { source, vms, issues };
}
