import * as fs from "fs";
import * as path from "path";
import { UsageError, parseFlags } from "../args";
import { EXIT } from "../common";
import {
    credentialsFromEnv, DEFAULT_SETTINGS, FragmentTarget, Inventory, issueLine, parseOverrides, planMigration, PlannerSettings, readCsvInventory,
    readGovcJson, readOpenStack, renderFragment, renderJson, renderMarkdown, renderSvg, RoleOrUnclassified, WorkerSize, dropDuplicates,
} from "../../components/workloads/planner";

export const summary = "migrate plan: read a VM inventory (CSV, RVTools, govc JSON, OpenStack) and write plan.md, plan.json, plan.svg, fragment.yaml";

const USAGE = [
    "usage: groundwork migrate plan --out DIR (--inventory FILE | --openstack) [options]",
    "  --inventory FILE        plain CSV, RVTools vInfo CSV or govc JSON (vm.info -json / ls -l -json), told apart by content",
    "  --openstack             the live OpenStack API of the OS_* variables (openrc)",
    "  --overrides FILE        `vm-name: role` lines; roles: static-site, web-api, user-db, queue, analytics-db, unclassified",
    "  --worker-sizes LIST     NAME=CPUSxGIB,… (default w4x16=4x16,w8x32=8x32,w16x64=16x64,w32x128=32x128); OpenStack: NAME is the flavor",
    "  --headroom PCT          added to utilisation percentiles (default 30)",
    "  --guest-os-memory MIB   guest OS memory taken off every VM (default 256)",
    "  --failover N            empty spare nodes (default 1, N+1)",
    "  --right-size-from-samples  also right-size from single samples (vSphere quick stats)",
    "  --backend openstack|vsphere, --pool NAME (workers), --group NAME (migrated), --profile dev|qa|prod (prod), --disk-gib N (100)",
    "  --strict                exit 2 when any VM is left out (default: plan the rest, exit 0)",
].join("\n");

function intFlag(flags: Record<string, string | boolean>, name: string, min: number, max: number): number | undefined {
    const v = flags[name];
    if (v === undefined) return undefined;
    if (typeof v !== "string" || !/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new UsageError(`--${name}: must be a whole number ${min}–${max}, got "${v}"`);
    return Number(v);
}

/** `w8=8x32,m1.xlarge=16x64` → worker sizes. */
export function parseWorkerSizes(text: string): WorkerSize[] {
    const sizes = text.split(",").map((p) => p.trim()).filter((p) => p !== "").map((p) => {
        const m = /^([A-Za-z0-9._-]+)=(\d+)x(\d+(?:\.\d+)?)$/.exec(p);
        if (!m || Number(m[2]) < 1 || Number(m[3]) < 1) throw new UsageError(`--worker-sizes: "${p}" is not NAME=CPUSxGIB (e.g. m1.xlarge=8x32)`);
        return { name: m[1], cpus: Number(m[2]), memoryMiB: Math.round(Number(m[3]) * 1024) };
    });
    if (sizes.length === 0) throw new UsageError("--worker-sizes: give at least one NAME=CPUSxGIB");
    return sizes;
}

async function readInventory(flags: Record<string, string | boolean>): Promise<Inventory> {
    if (flags.openstack) {
        const { credentials, missing } = credentialsFromEnv(process.env);
        if (!credentials) throw new UsageError(`--openstack: set ${missing.join(", ")} (source your openrc)`);
        return readOpenStack(credentials);
    }
    const file = flags.inventory as string;
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        return { source: file, vms: [], issues: [{ where: file, message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, effect: "fatal" }] };
    }
    return /^\s*[[{]/.test(text) ? readGovcJson(file, text) : readCsvInventory(file, text);
}

export async function run(argv: string[]): Promise<number> {
    const [sub, ...rest] = argv;
    if (sub !== "plan") throw new UsageError(`${sub === undefined ? "needs a sub-command" : `unknown sub-command "${sub}"`}\n${USAGE}`);
    const { flags, positional } = parseFlags(rest, {
        out: "string", inventory: "string", openstack: "boolean", overrides: "string", "worker-sizes": "string", headroom: "string", "guest-os-memory": "string",
        failover: "string", "right-size-from-samples": "boolean", backend: "string", pool: "string", group: "string", profile: "string", "disk-gib": "string", strict: "boolean",
    });
    if (positional.length > 0) throw new UsageError(`unexpected argument "${positional[0]}"\n${USAGE}`);
    const out = flags.out as string | undefined;
    if (out === undefined) throw new UsageError(`--out DIR is required\n${USAGE}`);
    if (fs.existsSync(out) && !fs.statSync(out).isDirectory()) throw new UsageError(`--out: "${out}" exists and is not a folder`);
    if ((flags.inventory === undefined) === (flags.openstack === undefined)) throw new UsageError(`give exactly one of --inventory FILE or --openstack\n${USAGE}`);
    const backend = (flags.backend as string | undefined) ?? "openstack";
    if (backend !== "openstack" && backend !== "vsphere") throw new UsageError(`--backend: must be openstack or vsphere, got "${backend}"`);
    const profile = (flags.profile as string | undefined) ?? "prod";
    if (!["dev", "qa", "prod"].includes(profile)) throw new UsageError(`--profile: must be dev, qa or prod, got "${profile}"`);
    const group = (flags.group as string | undefined) ?? "migrated";
    if (!/^[a-z0-9]([a-z0-9-]{0,18}[a-z0-9])?$/.test(group)) throw new UsageError(`--group: must be a DNS label of at most 20 characters, got "${group}"`);
    const settings: PlannerSettings = {
        ...DEFAULT_SETTINGS,
        headroomPercent: intFlag(flags, "headroom", 0, 1000) ?? DEFAULT_SETTINGS.headroomPercent,
        failover: intFlag(flags, "failover", 0, 100) ?? DEFAULT_SETTINGS.failover,
        rightSizeFromSamples: flags["right-size-from-samples"] === true,
        overheads: { ...DEFAULT_SETTINGS.overheads, guestOsMemoryMiB: intFlag(flags, "guest-os-memory", 0, 65536) ?? DEFAULT_SETTINGS.overheads.guestOsMemoryMiB },
        workerSizes: flags["worker-sizes"] === undefined ? DEFAULT_SETTINGS.workerSizes : parseWorkerSizes(flags["worker-sizes"] as string),
    };
    const target: FragmentTarget = { group, backend, pool: (flags.pool as string | undefined) ?? "workers", profile: profile as FragmentTarget["profile"], diskGiB: intFlag(flags, "disk-gib", 5, 65536) ?? 100 };

    let overrides = new Map<string, RoleOrUnclassified>();
    if (flags.overrides !== undefined) {
        const file = flags.overrides as string;
        let text: string;
        try {
            text = fs.readFileSync(file, "utf8");
        } catch (e) {
            throw new UsageError(`--overrides: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
        }
        const parsed = parseOverrides(file, text);
        if (parsed.problems.length > 0) {
            for (const p of parsed.problems) process.stderr.write(`${p}\n`);
            return EXIT.badInput;
        }
        overrides = parsed.overrides;
    }

    const inventory = dropDuplicates(await readInventory(flags));
    const fatal = inventory.issues.filter((i) => i.effect === "fatal");
    if (fatal.length > 0 || inventory.vms.length === 0) {
        for (const i of inventory.issues) process.stderr.write(`${issueLine(i)}\n`);
        if (fatal.length === 0) process.stderr.write(`${inventory.source}: no VM could be read; no plan written\n`);
        else process.stderr.write(`${inventory.source}: no plan written\n`);
        return EXIT.badInput;
    }
    const plan = planMigration(inventory, settings, overrides);
    for (const i of plan.issues) process.stderr.write(`${issueLine(i)}\n`);
    if (plan.chosen === undefined) {
        process.stderr.write(`no worker size holds every workload; no plan written (give a larger --worker-sizes entry)\n`);
        return EXIT.badInput;
    }
    fs.mkdirSync(out, { recursive: true });
    const files: [string, string][] = [["plan.md", renderMarkdown(plan)], ["plan.json", renderJson(plan)], ["plan.svg", renderSvg(plan)], ["fragment.yaml", renderFragment(plan, target)]];
    for (const [name, content] of files) fs.writeFileSync(path.join(out, name), content);
    const o = plan.options[plan.chosen];
    const leftOut = plan.issues.filter((i) => i.effect === "left-out").length;
    process.stdout.write(
        `planned ${plan.workloads.length} VMs (${plan.before.vcpus} vCPUs, ${plan.before.vmMemoryGiB.toFixed(1)} GiB) onto ${plan.after!.machines} × ${o.size.name} ` +
            `(${plan.after!.machines - plan.after!.spares} + ${plan.after!.spares} spare; lower bound ${o.lowerBound}): ${plan.after!.cores} cores, ${plan.after!.memoryGiB.toFixed(1)} GiB` +
            `${leftOut > 0 ? `; ${leftOut} left out` : ""}; wrote ${files.map(([n]) => n).join(", ")} to ${out}\n`,
    );
    return leftOut > 0 && flags.strict ? EXIT.badInput : EXIT.ok;
}
