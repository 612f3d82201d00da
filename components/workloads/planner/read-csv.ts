import { parseCsv } from "./csv";
import { Inventory, InventoryIssue, Vm } from "./inventory";
import { parseCount, parseMetadata, parsePercent, parsePorts, parsePower, parseSizeMiB, Parsed } from "./units";

/**
 * The plain CSV inventory (header names are case-insensitive, order free):
 *
 * | column | required | meaning |
 * |---|---|---|
 * | `name` | yes | VM name, unique; becomes the workload name |
 * | `vcpus` | yes | virtual CPUs, a whole number |
 * | `memory` | yes | memory: `8192` (MiB), `8 GiB`, `8GB` (read as GiB), `0.5 TiB` |
 * | `disk` | no | provisioned disk: `100` (GiB), `100 GiB`, `512 MiB` |
 * | `cpu_pNN`, `mem_pNN` | no | utilisation at percentile NN in percent of the VM's size, e.g. `cpu_p95`, `mem_p95` |
 * | `image` | no | image or template it was made from (`postgres-15`, `nginx`) |
 * | `os` | no | guest OS |
 * | `ports` | no | listening ports: `80;443` |
 * | `metadata` | no | `key=value;key=value` (a `role` key names the role) |
 * | `power` | no | `on`/`off` (poweredOn, running, …); defaults to on |
 * | `host` | no | hypervisor host it runs on (counts the hosts before) |
 */
export const PLAIN_COLUMNS = ["name", "vcpus", "memory", "disk", "image", "os", "ports", "metadata", "power", "host"] as const;

/** RVTools vInfo export columns we read (RVTools ≥ 4.x says MiB, older versions MB; both MiB). */
const RV = {
    vm: "VM",
    cpus: "CPUs",
    memory: "Memory",
    power: "Powerstate",
    template: "Template",
    provisioned: ["Provisioned MiB", "Provisioned MB"],
    inUse: ["In Use MiB", "In Use MB"],
    os: ["OS according to the VMware Tools", "OS according to the configuration file"],
    host: "Host",
    annotation: "Annotation",
};

type Row = { get(column: string): string | undefined; where: string };

function rowsOf(file: string, text: string, issues: InventoryIssue[]): { header: string[]; rows: Row[] } | undefined {
    const csv = parseCsv(text);
    if (csv.error) {
        issues.push({ where: `${file}:${csv.error.line}`, message: `${csv.error.message}; the file cannot be read past this line`, effect: "fatal" });
        return undefined;
    }
    if (csv.header.length === 0 || csv.header.every((h) => h === "")) {
        issues.push({ where: file, message: "is empty; expected a header line and one line per VM", effect: "fatal" });
        return undefined;
    }
    const index = new Map(csv.header.map((h, i) => [h.toLowerCase(), i]));
    const rows: Row[] = [];
    for (const r of csv.records) {
        const where = `${file}:${r.line}`;
        if (r.cells.length !== csv.header.length) {
            issues.push({ where, message: `has ${r.cells.length} fields, the header has ${csv.header.length}; left out (${csv.header.length < r.cells.length ? 'an unquoted "," inside a field?' : "a missing field?"})`, effect: "left-out" });
            continue;
        }
        rows.push({ where, get: (c) => { const i = index.get(c.toLowerCase()); return i === undefined ? undefined : r.cells[i].trim(); } });
    }
    return { header: csv.header, rows };
}

/** Collects the messages of failed parses; returns undefined values for them. */
class Cells {
    readonly problems: string[] = [];
    take<T>(p: Parsed<T>): T | undefined {
        if (p.ok) return p.value;
        this.problems.push(p.message);
        return undefined;
    }
}

const present = (s: string | undefined): s is string => s !== undefined && s !== "";

function finishRow(row: Row, name: string | undefined, vcpusText: string | undefined, memText: string | undefined, issues: InventoryIssue[], build: (c: Cells, vcpus: number, mem: number) => Vm): Vm | undefined {
    if (!present(name)) {
        issues.push({ where: row.where, message: "no name; left out", effect: "left-out" });
        return undefined;
    }
    if (!present(vcpusText) || !present(memText)) {
        const missing = [!present(vcpusText) ? "vCPUs" : "", !present(memText) ? "memory" : ""].filter((s) => s).join(" and ");
        issues.push({ where: row.where, message: `${name}: no size (${missing} empty); left out`, effect: "left-out" });
        return undefined;
    }
    const c = new Cells();
    const vcpus = c.take(parseCount("vcpus", vcpusText));
    const mem = c.take(parseSizeMiB("memory", memText, "MiB"));
    const vm = vcpus !== undefined && mem !== undefined ? build(c, vcpus, mem) : undefined;
    if (c.problems.length > 0) {
        issues.push({ where: row.where, message: `${name}: ${c.problems.join("; ")}; left out`, effect: "left-out" });
        return undefined;
    }
    return vm;
}

/** Reads the plain CSV inventory (columns above). */
export function readPlainCsv(file: string, text: string): Inventory {
    const issues: InventoryIssue[] = [];
    const t = rowsOf(file, text, issues);
    if (!t) return { source: `csv ${file}`, vms: [], issues };
    const lower = t.header.map((h) => h.toLowerCase());
    const missing = ["name", "vcpus", "memory"].filter((c) => !lower.includes(c));
    if (missing.length > 0) {
        issues.push({ where: `${file}:1`, message: `missing column${missing.length > 1 ? "s" : ""} ${missing.join(", ")}; the header needs name, vcpus, memory (optional: disk, cpu_p95, mem_p95, image, os, ports, metadata, power, host)`, effect: "fatal" });
        return { source: `csv ${file}`, vms: [], issues };
    }
    const util = lower.map((h) => /^(cpu|mem)_p(\d{1,2})$/.exec(h)).filter((m): m is RegExpExecArray => m !== null);
    const known = new Set<string>([...PLAIN_COLUMNS, ...util.map((m) => m[0])]);
    for (const h of lower.filter((h) => !known.has(h))) issues.push({ where: `${file}:1`, message: `column "${h}" is not one the planner reads; ignored`, effect: "note" });
    const percentiles = [...new Set(util.map((m) => Number(m[2])))];
    if (percentiles.length > 1) {
        issues.push({ where: `${file}:1`, message: `utilisation columns at several percentiles (${percentiles.map((p) => `p${p}`).join(", ")}); give one percentile for cpu and mem`, effect: "fatal" });
        return { source: `csv ${file}`, vms: [], issues };
    }
    const pct = percentiles[0];
    const vms: Vm[] = [];
    for (const row of t.rows) {
        const name = row.get("name");
        const vm = finishRow(row, name, row.get("vcpus"), row.get("memory"), issues, (c, vcpus, memoryMiB) => {
            const opt = <T>(col: string, f: (col: string, s: string) => Parsed<T>): T | undefined => { const v = row.get(col); return present(v) ? c.take(f(col, v)) : undefined; };
            const disk = opt("disk", (col, s) => parseSizeMiB(col, s, "GiB"));
            const cpuPercent = pct === undefined ? undefined : opt(`cpu_p${pct}`, parsePercent);
            const memPercent = pct === undefined ? undefined : opt(`mem_p${pct}`, parsePercent);
            return {
                name: name!,
                vcpus,
                memoryMiB: Math.round(memoryMiB),
                diskGiB: disk === undefined ? undefined : disk / 1024,
                cpuPercent,
                memPercent,
                percentile: cpuPercent !== undefined || memPercent !== undefined ? pct : undefined,
                image: row.get("image") || undefined,
                os: row.get("os") || undefined,
                ports: opt("ports", parsePorts) ?? [],
                metadata: opt("metadata", parseMetadata) ?? {},
                host: row.get("host") || undefined,
                poweredOn: opt("power", parsePower) ?? true,
                where: row.where,
            };
        });
        if (vm) vms.push(vm);
    }
    return { source: `csv ${file}`, vms, issues };
}

/** Is this header an RVTools vInfo export? */
export function isRvtoolsHeader(header: string[]): boolean {
    return header.includes(RV.vm) && header.includes(RV.cpus) && header.includes(RV.memory);
}

/** Reads an RVTools vInfo tab exported as CSV. Templates are skipped (noted); memory and disk are MiB. */
export function readRvtoolsCsv(file: string, text: string): Inventory {
    const issues: InventoryIssue[] = [];
    const source = `rvtools ${file}`;
    const t = rowsOf(file, text, issues);
    if (!t) return { source, vms: [], issues };
    if (!isRvtoolsHeader(t.header)) {
        issues.push({ where: `${file}:1`, message: `not an RVTools vInfo export: needs the columns "VM", "CPUs", "Memory"`, effect: "fatal" });
        return { source, vms: [], issues };
    }
    const firstOf = (row: Row, cols: string[]) => cols.map((c) => row.get(c)).find(present);
    const vms: Vm[] = [];
    for (const row of t.rows) {
        const name = row.get(RV.vm);
        if (present(name) && /^true$/i.test(row.get(RV.template) ?? "")) {
            issues.push({ where: row.where, message: `${name}: a template, not a running workload; not planned`, effect: "note" });
            continue;
        }
        const vm = finishRow(row, name, row.get(RV.cpus), row.get(RV.memory), issues, (c, vcpus, memoryMiB) => {
            const mib = (cols: string[]) => { const v = firstOf(row, cols); return present(v) ? c.take(parseSizeMiB(cols[0], v, "MiB")) : undefined; };
            const prov = mib(RV.provisioned);
            const used = mib(RV.inUse);
            const power = row.get(RV.power);
            const annotation = row.get(RV.annotation);
            return {
                name: name!,
                vcpus,
                memoryMiB: Math.round(memoryMiB),
                diskGiB: prov === undefined ? undefined : prov / 1024,
                diskUsedGiB: used === undefined ? undefined : used / 1024,
                os: firstOf(row, RV.os),
                ports: [],
                metadata: present(annotation) ? { annotation } : ({} as Record<string, string>),
                host: row.get(RV.host) || undefined,
                poweredOn: present(power) ? c.take(parsePower(RV.power, power)) ?? true : true,
                where: row.where,
            };
        });
        if (vm) vms.push(vm);
    }
    return { source, vms, issues };
}

/** Plain CSV or RVTools vInfo, told apart by the header. */
export function readCsvInventory(file: string, text: string): Inventory {
    return isRvtoolsHeader(parseCsv(text.split(/\r?\n/, 1)[0] ?? "").header) ? readRvtoolsCsv(file, text) : readPlainCsv(file, text);
}
