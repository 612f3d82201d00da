import { MigrationPlan } from "./plan";

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const n1 = (v: number) => (Math.round(v * 10) / 10).toString();
const COLORS = { vm: "#8c6d31", overhead: "#d6a756", request: "#3b6ea5", capacity: "#a9c4e0", cpu: "#3b6ea5", mem: "#c0504d", spare: "#bbbbbb" };

/**
 * plan.svg: footprint before and after (cores and GiB, stacked: VM allocation + hypervisor
 * overhead; container requests + the rest of the workers' capacity) and the CPU and memory fill
 * of every worker node, spares included. Pure and deterministic.
 */
export function renderSvg(plan: MigrationPlan): string {
    const W = 960;
    const parts: string[] = [];
    const text = (x: number, y: number, s: string, extra = "") => parts.push(`<text x="${x}" y="${y}"${extra}>${esc(s)}</text>`);
    const rect = (x: number, y: number, w: number, h: number, fill: string, title?: string) =>
        parts.push(`<rect x="${n1(x)}" y="${n1(y)}" width="${n1(Math.max(0, w))}" height="${n1(Math.max(0, h))}" fill="${fill}">${title ? `<title>${esc(title)}</title>` : ""}</rect>`);
    text(20, 28, `Migration plan: ${plan.source}`, ' font-size="16" font-weight="bold"');
    const b = plan.before;
    const a = plan.after;
    // Footprint bars, one scale per metric.
    const metrics: [string, number, number, number, number][] = [
        ["cores", b.vcpus, b.cores - b.vcpus, a?.requestedCores ?? 0, (a?.cores ?? 0) - (a?.requestedCores ?? 0)],
        ["memory GiB", b.vmMemoryGiB, b.memoryGiB - b.vmMemoryGiB, a?.requestedMemoryGiB ?? 0, (a?.memoryGiB ?? 0) - (a?.requestedMemoryGiB ?? 0)],
    ];
    let y = 50;
    const x0 = 190;
    const span = W - x0 - 120;
    for (const [label, vm, over, req, rest] of metrics) {
        const max = Math.max(vm + over, req + rest, 1e-9);
        text(20, y + 14, `${label}: before`, ' font-size="12"');
        rect(x0, y, (span * vm) / max, 18, COLORS.vm, `VMs allocated ${n1(vm)}`);
        rect(x0 + (span * vm) / max, y, (span * over) / max, 18, COLORS.overhead, `hypervisor overhead ${n1(over)}`);
        text(x0 + (span * (vm + over)) / max + 6, y + 14, n1(vm + over), ' font-size="12"');
        y += 24;
        text(20, y + 14, `${label}: after`, ' font-size="12"');
        rect(x0, y, (span * req) / max, 18, COLORS.request, `containers requested ${n1(req)}`);
        rect(x0 + (span * req) / max, y, (span * rest) / max, 18, COLORS.capacity, `unrequested worker capacity (reserve, headroom, spares) ${n1(rest)}`);
        text(x0 + (span * (req + rest)) / max + 6, y + 14, a ? n1(req + rest) : "no worker size fits", ' font-size="12"');
        y += 34;
    }
    const legend: [string, string][] = [[COLORS.vm, "VM allocation"], [COLORS.overhead, "hypervisor overhead"], [COLORS.request, "container requests"], [COLORS.capacity, "rest of worker capacity"]];
    legend.forEach(([c, l], i) => {
        rect(20 + i * 200, y, 12, 12, c);
        text(38 + i * 200, y + 11, l, ' font-size="12"');
    });
    y += 46;
    // Fill per node.
    const o = plan.chosen === undefined ? undefined : plan.options[plan.chosen];
    if (o?.packing && a) {
        const nodes = o.packing.loads.map((l) => [l.cpuMillis / o.allocatable.cpuMillis, l.memoryMiB / o.allocatable.memoryMiB]);
        for (let i = 0; i < a.spares; i++) nodes.push([0, 0]);
        text(20, y, `Fill per node: ${nodes.length} × ${o.size.name} (${o.size.cpus} cores, ${n1(o.size.memoryMiB / 1024)} GiB; allocatable ${o.allocatable.cpuMillis} m, ${o.allocatable.memoryMiB} MiB), ${a.spares} spare`, ' font-size="14" font-weight="bold"');
        y += 14;
        const H = 160;
        const colW = Math.max(2, Math.min(24, Math.floor((W - 80) / nodes.length)));
        const barW = Math.max(1, Math.floor((colW - 1) / 2));
        text(20, y + 10, "100 %", ' font-size="10"');
        text(20, y + H, "0 %", ' font-size="10"');
        parts.push(`<line x1="60" y1="${y}" x2="${60 + colW * nodes.length}" y2="${y}" stroke="#999" stroke-dasharray="3,3"/>`);
        nodes.forEach(([c, m], i) => {
            const x = 60 + i * colW;
            const spare = i >= o.packing!.loads.length;
            const name = spare ? `spare-${i - o.packing!.loads.length + 1}` : `worker-${i + 1}`;
            if (spare) rect(x, y, colW - 1, H, "#f2f2f2", `${name}: empty failover spare`);
            rect(x, y + H * (1 - c), barW, H * c, COLORS.cpu, `${name}: CPU ${Math.round(c * 100)} %`);
            rect(x + barW, y + H * (1 - m), barW, H * m, COLORS.mem, `${name}: memory ${Math.round(m * 100)} %`);
        });
        y += H + 20;
        rect(60, y, 12, 12, COLORS.cpu);
        text(78, y + 11, "CPU requested / allocatable", ' font-size="12"');
        rect(300, y, 12, 12, COLORS.mem);
        text(318, y + 11, "memory requested / allocatable", ' font-size="12"');
        rect(560, y, 12, 12, "#f2f2f2");
        text(578, y + 11, "failover spare", ' font-size="12"');
        y += 24;
    }
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y}" viewBox="0 0 ${W} ${y}" font-family="sans-serif">\n<rect width="${W}" height="${y}" fill="white"/>\n${parts.join("\n")}\n</svg>\n`;
}
