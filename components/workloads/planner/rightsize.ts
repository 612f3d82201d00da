import { Vm } from "./inventory";
import { PlannerSettings } from "./settings";

/** One VM's container requests and how they were reached. */
export interface Sizing {
    cpuMillis: number;
    memoryMiB: number;
    /** `p95 + 30 % headroom`, `configured size`, … per resource. */
    cpuBasis: string;
    memoryBasis: string;
}

const pctName = (p: Vm["percentile"]) => (p === "last" ? "one sample" : `p${p}`);

/**
 * Container requests for a VM. With a utilisation figure (a percentile, or a single sample when
 * `rightSizeFromSamples`), the request is used × (1 + headroom); without one it is the configured
 * size. The guest OS overhead is then taken off (a container has no guest kernel), and the result
 * never goes below the minimum request nor above the VM's configured size.
 */
export function rightSize(vm: Vm, s: PlannerSettings): Sizing {
    const o = s.overheads;
    const usable = vm.percentile !== undefined && (vm.percentile !== "last" || s.rightSizeFromSamples);
    const head = 1 + s.headroomPercent / 100;
    const configuredCpu = vm.vcpus * 1000;
    let cpu = configuredCpu;
    let cpuBasis = "configured vCPUs";
    if (usable && vm.cpuPercent !== undefined) {
        cpu = (configuredCpu * vm.cpuPercent) / 100 * head;
        cpuBasis = `${pctName(vm.percentile)} ${round1(vm.cpuPercent)} % + ${s.headroomPercent} % headroom`;
    }
    let mem = vm.memoryMiB;
    let memoryBasis = "configured memory";
    if (usable && vm.memPercent !== undefined) {
        mem = (vm.memoryMiB * vm.memPercent) / 100 * head;
        memoryBasis = `${pctName(vm.percentile)} ${round1(vm.memPercent)} % + ${s.headroomPercent} % headroom`;
    }
    cpu -= o.guestOsCpuMillis;
    mem -= o.guestOsMemoryMiB;
    if (o.guestOsCpuMillis > 0) cpuBasis += ` − ${o.guestOsCpuMillis} m guest OS`;
    if (o.guestOsMemoryMiB > 0) memoryBasis += ` − ${o.guestOsMemoryMiB} MiB guest OS`;
    return {
        cpuMillis: clamp(Math.ceil(cpu / 10) * 10, s.minCpuMillis, Math.max(s.minCpuMillis, configuredCpu)),
        memoryMiB: clamp(Math.ceil(mem), s.minMemoryMiB, Math.max(s.minMemoryMiB, vm.memoryMiB)),
        cpuBasis,
        memoryBasis,
    };
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
const round1 = (v: number) => Math.round(v * 10) / 10;
