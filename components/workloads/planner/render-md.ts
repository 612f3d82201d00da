import { issueLine } from "./inventory";
import { MigrationPlan, ROLE_ORDER } from "./plan";
import { OVERHEAD_SOURCES } from "./settings";

const f1 = (n: number) => (Math.round(n * 10) / 10).toFixed(1);
const pct = (part: number, whole: number) => (whole > 0 ? `${Math.round((100 * part) / whole)} %` : "–");
const row = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;

/** plan.md: what a budget owner reads. Pure and deterministic. */
export function renderMarkdown(plan: MigrationPlan): string {
    const s = plan.settings;
    const b = plan.before;
    const a = plan.after;
    const chosen = plan.chosen === undefined ? undefined : plan.options[plan.chosen];
    const out: string[] = [`# Migration plan: ${plan.source}`, ""];
    out.push(`${plan.workloads.length} VMs planned${b.poweredOff > 0 ? ` (${b.poweredOff} powered off, planned at their configured size)` : ""}; ${plan.issues.filter((i) => i.effect === "left-out").length} left out (see Problems).`, "");
    out.push("## Before and after", "");
    out.push(row(["", "machines", "cores", "memory GiB"]), row(["---", "---:", "---:", "---:"]));
    out.push(row([`VMs${b.hosts !== undefined ? ` (on ${b.hosts} hosts)` : ""}: allocated`, b.machines, f1(b.vcpus), f1(b.vmMemoryGiB)]));
    out.push(row(["VMs: + hypervisor overhead", "", f1(b.cores), f1(b.memoryGiB)]));
    if (a && chosen) {
        out.push(row([`containers: requested`, "", f1(a.requestedCores), f1(a.requestedMemoryGiB)]));
        out.push(row([`workers ${chosen.size.name} (${a.machines - a.spares} + ${a.spares} spare)`, a.machines, f1(a.cores), f1(a.memoryGiB)]));
        out.push(row(["change", "", `${f1(a.cores - b.cores)} (${pct(a.cores - b.cores, b.cores)})`, `${f1(a.memoryGiB - b.memoryGiB)} (${pct(a.memoryGiB - b.memoryGiB, b.memoryGiB)})`]));
    } else out.push("", "**No worker size holds every workload**: give a larger size with `--worker-sizes`.");
    out.push("", "## Worker sizes compared", "");
    out.push(row(["size", "cpus", "memory GiB", "allocatable (m / MiB)", "lower bound", "packed", "+ spare", "total cores", "total GiB", "method"]), row(["---", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---"]));
    plan.options.forEach((o, k) => {
        const name = k === plan.chosen ? `**${o.size.name}** (chosen)` : o.size.name;
        if (!o.eligible) return out.push(row([name, o.size.cpus, f1(o.size.memoryMiB / 1024), `${o.allocatable.cpuMillis} / ${o.allocatable.memoryMiB}`, "–", "too small for a workload", "", "", "", ""]));
        const packed = o.packing!.nodes.length;
        out.push(row([name, o.size.cpus, f1(o.size.memoryMiB / 1024), `${o.allocatable.cpuMillis} / ${o.allocatable.memoryMiB}`, o.lowerBound!, packed, o.total! - packed, o.total! * o.size.cpus, f1((o.total! * o.size.memoryMiB) / 1024), o.packing!.method]));
    });
    out.push("", "Lower bound = max(⌈ΣCPU / allocatable CPU⌉, ⌈Σmemory / allocatable memory⌉). Packing: first-fit and best-fit decreasing on CPU and memory together, the better one; a larger size also tries the packings of the smaller sizes it dominates, so a larger size never shows more nodes.", "");
    if (chosen?.packing) {
        out.push(`## Fill per node (${chosen.size.name}, allocatable ${chosen.allocatable.cpuMillis} m / ${chosen.allocatable.memoryMiB} MiB)`, "");
        out.push(row(["node", "workloads", "CPU", "memory"]), row(["---", "---:", "---:", "---:"]));
        chosen.packing.nodes.forEach((n, i) => {
            const l = chosen.packing!.loads[i];
            out.push(row([`worker-${i + 1}`, n.length, pct(l.cpuMillis, chosen.allocatable.cpuMillis), pct(l.memoryMiB, chosen.allocatable.memoryMiB)]));
        });
        for (let i = 0; i < (plan.after?.spares ?? 0); i++) out.push(row([`spare-${i + 1}`, 0, "0 %", "0 %"]));
        out.push("");
    }
    out.push("## Roles", "", row(["role", "VMs"]), row(["---", "---:"]));
    for (const r of ROLE_ORDER) out.push(row([r, plan.byRole[r]]));
    out.push("", "## Settings", "");
    out.push(`- Right-sizing: a utilisation percentile (as the inventory gives it) + ${s.headroomPercent} % headroom; without one, the configured size.${s.rightSizeFromSamples ? " Single samples (vSphere quick stats) are used too." : " Single samples (vSphere quick stats) are shown but not used."}`);
    out.push(`- Guest OS overhead taken off every VM: ${s.overheads.guestOsMemoryMiB} MiB memory, ${s.overheads.guestOsCpuMillis} m CPU.`);
    out.push(`- Hypervisor overhead per VM (before only): ${s.overheads.hypervisorMemory.fixedMiB} MiB + ${s.overheads.hypervisorMemory.perVcpuMiB} MiB per vCPU + ${s.overheads.hypervisorMemory.fraction * 100} % of memory; ${s.overheads.hypervisorCpuMillis} m CPU.`);
    out.push(`- Minimum request: ${s.minCpuMillis} m CPU, ${s.minMemoryMiB} MiB. Failover: ${s.failover} empty spare node(s), so any ${s.failover} node(s) can fail and their workloads fit on the spare(s).`);
    out.push(`- Node reserve (kubelet, system, eviction) per size: ${plan.options.map((o) => `${o.size.name} ${o.reserve.cpuMillis} m / ${o.reserve.memoryMiB} MiB`).join("; ")}.`);
    out.push("", "Sources of the defaults:", "", ...OVERHEAD_SOURCES.map((x) => `- ${x}`), "");
    out.push("## Workloads", "", row(["workload", "VM", "role", "why", "vCPU → CPU m", "MiB → MiB", "CPU basis", "memory basis", "storage GiB"]), row(["---", "---", "---", "---", "---:", "---:", "---", "---", "---:"]));
    for (const w of plan.workloads) {
        out.push(row([w.name, w.vm.name === w.name ? "" : w.vm.name.replace(/\|/g, "\\|"), w.role, w.reason.replace(/\|/g, "\\|"), `${w.vm.vcpus} → ${w.sizing.cpuMillis}`, `${w.vm.memoryMiB} → ${w.sizing.memoryMiB}`, w.sizing.cpuBasis, w.sizing.memoryBasis, w.storageGiB ?? ""]));
    }
    out.push("", "## Problems", "");
    if (plan.issues.length === 0) out.push("None.");
    for (const i of plan.issues) out.push(`- ${i.effect}: ${issueLine(i).replace(/\|/g, "\\|")}`);
    return out.join("\n") + "\n";
}

/** plan.json: the plan as data (stable key order). */
export function renderJson(plan: MigrationPlan): string {
    const o = {
        source: plan.source,
        settings: plan.settings,
        before: plan.before,
        after: plan.after ?? null,
        chosen: plan.chosen === undefined ? null : plan.options[plan.chosen].size.name,
        options: plan.options.map((x) => ({
            size: x.size,
            reserve: x.reserve,
            allocatable: x.allocatable,
            eligible: x.eligible,
            lowerBound: x.lowerBound ?? null,
            nodes: x.packing ? x.packing.nodes.map((n) => n.map((i) => plan.workloads[i].name)) : null,
            loads: x.packing?.loads ?? null,
            spares: x.eligible ? x.total! - x.packing!.nodes.length : null,
            method: x.packing?.method ?? null,
        })),
        byRole: plan.byRole,
        workloads: plan.workloads.map((w) => ({ name: w.name, vm: w.vm.name, role: w.role, reason: w.reason, vcpus: w.vm.vcpus, vmMemoryMiB: w.vm.memoryMiB, cpuMillis: w.sizing.cpuMillis, memoryMiB: w.sizing.memoryMiB, cpuBasis: w.sizing.cpuBasis, memoryBasis: w.sizing.memoryBasis, storageGiB: w.storageGiB ?? null, poweredOn: w.vm.poweredOn, where: w.vm.where })),
        issues: plan.issues,
        sources: OVERHEAD_SOURCES,
    };
    return JSON.stringify(o, null, 2) + "\n";
}
