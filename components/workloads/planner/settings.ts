// The planner's settings and their defaults, each with where the default comes from.

/** A worker size a plan may use. */
export interface WorkerSize {
    /** Flavor name (OpenStack) or a label (vSphere). */
    name: string;
    cpus: number;
    memoryMiB: number;
}

export interface Overheads {
    /**
     * Memory the guest OS itself uses inside every VM (kernel, init, agents): a container does not
     * carry it, so it is taken off each VM's memory. Defaults to 256 MiB, the Debian 12 Installation
     * Guide's minimum RAM for a system without a desktop (§3.4, "Meeting Minimum Hardware
     * Requirements"). Set it from your own guests' idle `free -m` when you have it.
     */
    guestOsMemoryMiB: number;
    /**
     * CPU the guest OS uses when the application is idle, millicores. Defaults to 0: Felter et al.,
     * "An Updated Performance Comparison of Virtual Machines and Linux Containers" (IBM Research
     * RC25482, 2014; ISPASS 2015) measured CPU- and memory-bound work under KVM within noise of
     * native; the costs they found were in I/O (storage and network), which this plan does not size.
     */
    guestOsCpuMillis: number;
    /**
     * Host memory the hypervisor spends per VM beyond the VM's own memory, as
     * `fixedMiB + perVcpuMiB × vCPUs + fraction × memory`. It is part of the "before" footprint and
     * disappears with the VM. Defaults to OpenShift Virtualization's published per-VM estimate:
     * 218 MiB + 8 MiB per vCPU + 0.002 × memory (openshift-docs, "Virtual machine memory overhead",
     * modules/virt-cluster-resource-requirements.adoc, corrected in PR 98819).
     */
    hypervisorMemory: { fixedMiB: number; perVcpuMiB: number; fraction: number };
    /** Host CPU the hypervisor spends per VM, millicores. Defaults to 0 (Felter et al., as above). */
    hypervisorCpuMillis: number;
}

export const DEFAULT_OVERHEADS: Overheads = {
    guestOsMemoryMiB: 256,
    guestOsCpuMillis: 0,
    hypervisorMemory: { fixedMiB: 218, perVcpuMiB: 8, fraction: 0.002 },
    hypervisorCpuMillis: 0,
};

export const OVERHEAD_SOURCES = [
    "Guest OS memory 256 MiB: Debian 12 Installation Guide §3.4, minimum RAM without a desktop.",
    "CPU overhead 0: W. Felter, A. Ferreira, R. Rajamony, J. Rubio, \"An Updated Performance Comparison of Virtual Machines and Linux Containers\", IBM Research Report RC25482 (2014), ISPASS 2015 — KVM CPU and memory performance within noise of native; the overhead is in I/O.",
    "Hypervisor memory 218 MiB + 8 MiB/vCPU + 0.2 % of memory: OpenShift Virtualization documentation, \"Virtual machine memory overhead\" (openshift/openshift-docs modules/virt-cluster-resource-requirements.adoc).",
    "Node reserve: GKE's published kube-reserved formula (cloud.google.com/kubernetes-engine/docs/concepts/plan-node-sizes, \"Memory and CPU reservations\") plus its 100 MiB eviction threshold.",
];

export interface PlannerSettings {
    /** Headroom added to a utilisation percentile, percent. Defaults to 30. */
    headroomPercent: number;
    /** Right-size from a single sample (vSphere quick stats) too, not only from percentiles. Defaults to false. */
    rightSizeFromSamples: boolean;
    /** Smallest request per container. Defaults to 50 millicores and 64 MiB. */
    minCpuMillis: number;
    minMemoryMiB: number;
    overheads: Overheads;
    /** Worker sizes to compare; the plan uses the one with the smallest footprint. */
    workerSizes: WorkerSize[];
    /** Spare nodes kept empty so any `failover` nodes can fail (N+1 = 1). Defaults to 1. */
    failover: number;
}

export const DEFAULT_WORKER_SIZES: WorkerSize[] = [
    { name: "w4x16", cpus: 4, memoryMiB: 16 * 1024 },
    { name: "w8x32", cpus: 8, memoryMiB: 32 * 1024 },
    { name: "w16x64", cpus: 16, memoryMiB: 64 * 1024 },
    { name: "w32x128", cpus: 32, memoryMiB: 128 * 1024 },
];

export const DEFAULT_SETTINGS: PlannerSettings = {
    headroomPercent: 30,
    rightSizeFromSamples: false,
    minCpuMillis: 50,
    minMemoryMiB: 64,
    overheads: DEFAULT_OVERHEADS,
    workerSizes: DEFAULT_WORKER_SIZES,
    failover: 1,
};

/** Sums `rate × amount` over consecutive tiers of `[size, rate]`; the last tier is open-ended. */
function tiered(amount: number, tiers: [number, number][]): number {
    let left = amount;
    let total = 0;
    for (const [size, rate] of tiers) {
        const part = Math.min(left, size);
        total += part * rate;
        left -= part;
        if (left <= 0) break;
    }
    return total;
}

/**
 * What kubelet and the system keep on a node (kube-reserved + system-reserved + eviction), by
 * GKE's published tiers: CPU 6 % of the first core, 1 % of the next, 0.5 % of the next 2, 0.25 %
 * above 4; memory 25 % of the first 4 GiB, 20 % of the next 4, 10 % of the next 8, 6 % of the
 * next 112, 2 % above 128 GiB, plus 100 MiB for the eviction threshold.
 */
export function nodeReserve(size: { cpus: number; memoryMiB: number }): { cpuMillis: number; memoryMiB: number } {
    const cpuMillis = tiered(size.cpus * 1000, [[1000, 0.06], [1000, 0.01], [2000, 0.005], [Infinity, 0.0025]]);
    const memoryMiB = tiered(size.memoryMiB, [[4096, 0.25], [4096, 0.2], [8192, 0.1], [112 * 1024, 0.06], [Infinity, 0.02]]) + 100;
    return { cpuMillis: Math.ceil(cpuMillis), memoryMiB: Math.ceil(memoryMiB) };
}

/** What containers may request on a node of this size. */
export function allocatable(size: { cpus: number; memoryMiB: number }): { cpuMillis: number; memoryMiB: number } {
    const r = nodeReserve(size);
    return { cpuMillis: size.cpus * 1000 - r.cpuMillis, memoryMiB: size.memoryMiB - r.memoryMiB };
}

/** Hypervisor memory overhead of one VM, MiB. */
export function hypervisorMemoryMiB(o: Overheads, vcpus: number, memoryMiB: number): number {
    return o.hypervisorMemory.fixedMiB + o.hypervisorMemory.perVcpuMiB * vcpus + o.hypervisorMemory.fraction * memoryMiB;
}
