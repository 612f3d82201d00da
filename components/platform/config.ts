import { z } from "zod";
import { clusterConfig } from "../cluster/config";
import { engineConfig } from "../engine/config";
import { engineProblems } from "../engine/validate";
import { backendsConfig, MachineGroupConfig, machinesConfig } from "../machines/config";
import { MachineRole, MachineSpec } from "../machines/machine";
import { networkConfig } from "../network/config";
import { overlaps, parseCidr } from "../kit/ipv4";
import { AddressRequest, buildIpPlan, IpPlan } from "../network/plan";
import { registryConfig } from "../registry/config";
import { dnsLabel } from "../kit/zod-kit";
import { Problem, zodProblems } from "../kit/problems";
import { deployProblems } from "./rules";

export { Problem } from "../kit/problems";
export { MachineRole, MachineSpec } from "../machines/machine";

/** The one structured key groundwork reads: `groundwork:platform`. */
export const PLATFORM_KEY = "groundwork:platform";
/** Secrets live in their own keys so they stay Pulumi secrets (`pulumi config set --secret`). */
export const SECRET_KEYS = {
    vspherePassword: "groundwork:vspherePassword",
    sshPrivateKey: "groundwork:sshPrivateKey",
} as const;
export type SecretName = keyof typeof SECRET_KEYS;

export const platformConfig = z
    .object({
        /** Prefix of every machine and resource name; at most 20 characters. */
        name: dnsLabel(20),
        /** Which guardrails apply (prod is strictest). */
        environment: z.enum(["local", "dev", "qa", "prod", "customer"]),
        /** How far up the layers to build: `machines` stops after machines and their engine bootstrap
         * (the local stack: no guests run there). Defaults to all. */
        upTo: z.enum(["machines", "all"]).default("all"),
        network: networkConfig,
        machines: machinesConfig,
        backends: backendsConfig.default({}),
        engine: engineConfig.default({}),
        cluster: clusterConfig,
        registry: registryConfig.default({}),
    })
    .strict();

export type PlatformConfig = z.infer<typeof platformConfig>;
export interface PlatformSpec {
    config: PlatformConfig;
    machines: MachineSpec[];
    ipPlan: IpPlan;
}

interface Expanded extends Omit<MachineSpec, "address"> {
    request: AddressRequest;
}

function expandGroup(prefix: string, groupKey: string, role: MachineRole, path: string, g: MachineGroupConfig, problems: Problem[]): Expanded[] {
    const common = { role, group: groupKey, backend: g.backend, labels: g.labels, taints: g.taints, flavor: g.flavor, cpus: g.cpus, memoryMiB: g.memoryMiB, diskGiB: g.diskGiB };
    if (g.backend === "baremetal") {
        if (!g.hosts || g.hosts.length === 0) {
            problems.push({ path: `${path}.hosts`, message: "is required for backend baremetal: list each server's name and address" });
            return [];
        }
        if (g.count !== undefined && g.count !== g.hosts.length) {
            problems.push({ path: `${path}.count`, message: `is ${g.count} but ${g.hosts.length} hosts are listed; omit count for bare metal` });
        }
        for (const key of ["pool", "flavor", "cpus", "memoryMiB", "diskGiB"] as const) {
            if (g[key] !== undefined) problems.push({ path: `${path}.${key}`, message: "applies to VM backends only, not baremetal" });
        }
        return g.hosts.map((h, i) => ({ ...common, name: h.name, ordinal: i + 1, bmc: h.bmc, request: { name: h.name, path: `${path}.hosts[${i}]`, address: h.address } }));
    }
    if (g.hosts !== undefined) problems.push({ path: `${path}.hosts`, message: `applies to backend baremetal only, not ${g.backend}` });
    if (g.count === undefined) problems.push({ path: `${path}.count`, message: `is required (integer ≥ 0) for backend ${g.backend}` });
    if (g.pool === undefined) problems.push({ path: `${path}.pool`, message: `is required for backend ${g.backend}: name a network.pools entry` });
    if (g.count === undefined || g.pool === undefined) return [];
    const excluded = new Set(g.exclude);
    const out: Expanded[] = [];
    for (let ordinal = 1; out.length < g.count; ordinal++) {
        if (excluded.has(ordinal)) continue;
        const name = `${prefix}-${groupKey === "controlPlane" ? "cp" : groupKey}-${ordinal}`;
        out.push({ ...common, name, ordinal, request: { name, path: `${path}.count`, pool: g.pool, ordinal } });
    }
    return out;
}

/** Cross-field rules the schema alone cannot express. */
function crossCheck(c: PlatformConfig, secrets: ReadonlySet<SecretName>, problems: Problem[]) {
    const p = (path: string, message: string) => problems.push({ path: `platform.${path}`, message });
    const cp = c.machines.controlPlane;
    const cpCount = cp.backend === "baremetal" ? cp.hosts?.length : cp.count;
    if (cpCount !== undefined && ![1, 3, 5].includes(cpCount)) {
        p(cp.backend === "baremetal" ? "machines.controlPlane.hosts" : "machines.controlPlane.count", `must be 1, 3 or 5 (an odd etcd quorum), got ${cpCount}`);
    }
    const groups: [string, MachineGroupConfig][] = [["machines.controlPlane", cp], ...Object.entries(c.machines.workers).map(([k, g]) => [`machines.workers.${k}`, g] as [string, MachineGroupConfig])];
    if (c.machines.registry) groups.push(["machines.registry", c.machines.registry]);
    const used = new Set(groups.map(([, g]) => g.backend));
    for (const backend of used) {
        if (backend !== "baremetal" && c.backends[backend] === undefined) {
            p(`backends.${backend}`, `is required: ${groups.filter(([, g]) => g.backend === backend).map(([k]) => `platform.${k}`).join(", ")} use backend ${backend}`);
        }
    }
    if (used.has("vsphere") && !secrets.has("vspherePassword")) {
        p("backends.vsphere", `needs the secret ${SECRET_KEYS.vspherePassword}; set it with \`pulumi config set --secret ${SECRET_KEYS.vspherePassword}\``);
    }
    if (used.has("baremetal") && !secrets.has("sshPrivateKey")) {
        p("backends.baremetal", `needs the secret ${SECRET_KEYS.sshPrivateKey}; set it with \`pulumi config set --secret ${SECRET_KEYS.sshPrivateKey} < key\``);
    }
    for (const [key, g] of groups) {
        if (g.flavor !== undefined && g.backend !== "openstack") p(`${key}.flavor`, `applies to backend openstack only, not ${g.backend}`);
        for (const k of ["cpus", "memoryMiB", "diskGiB"] as const) {
            if (g[k] !== undefined && g.backend === "openstack") p(`${key}.${k}`, "applies to backend vsphere only; pick an OpenStack flavor instead");
        }
    }
    if (c.registry.mode === "harbor" && c.registry.hostname === undefined) p("registry.hostname", "is required when registry.mode is harbor (the name in Harbor's certificate)");
    if (c.registry.mode === "standalone" && !c.machines.registry) p("machines.registry", "is required when registry.mode is standalone");
    if (c.registry.mode !== "standalone" && c.machines.registry) p("machines.registry", `is only used when registry.mode is standalone (it is ${c.registry.mode})`);
    if (c.machines.registry && c.machines.registry.backend !== "baremetal" && c.machines.registry.count !== 1) {
        p("machines.registry.count", `must be 1, got ${c.machines.registry.count ?? "nothing"}`);
    }
    const endpoint = c.cluster.controlPlaneEndpoint;
    if (endpoint.mode === "kube-vip" && c.network.vip === undefined) p("network.vip", "is required when cluster.controlPlaneEndpoint.mode is kube-vip (the default)");
    if (endpoint.mode === "external" && endpoint.address === undefined) p("cluster.controlPlaneEndpoint.address", "is required when mode is external");
    problems.push(...engineProblems(c.engine), ...deployProblems(c));
    if (c.cluster.packageSource.kind === "mirror" && c.cluster.packageSource.url === undefined) p("cluster.packageSource.url", "is required when kind is mirror");
    const cidrs: [string, string][] = [["network.cidr", c.network.cidr], ["cluster.podCidr", c.cluster.podCidr], ["cluster.serviceCidr", c.cluster.serviceCidr]];
    cidrs.forEach(([ka, a], i) => {
        for (const [kb, b] of cidrs.slice(i + 1)) {
            const ra = parseCidr(a);
            const rb = parseCidr(b);
            if (typeof ra !== "string" && typeof rb !== "string" && overlaps(ra, rb)) p(kb, `${b} overlaps platform.${ka} ${a}`);
        }
    });
}

/**
 * Parses raw `groundwork:platform` config into a validated spec: every machine with its address.
 * Reports every problem at once; never throws on bad input.
 */
export function parsePlatform(raw: unknown, secrets: ReadonlySet<SecretName> = new Set()): { spec?: PlatformSpec; problems: Problem[] } {
    if (raw === undefined || raw === null) {
        return { problems: [{ path: PLATFORM_KEY, message: "is not set; see README.md › Configuration" }] };
    }
    const parsed = platformConfig.safeParse(raw);
    if (!parsed.success) return { problems: zodProblems(parsed.error, platformConfig, raw, "platform") };
    const config = parsed.data;
    const problems: Problem[] = [];
    crossCheck(config, secrets, problems);
    const expanded = [
        ...expandGroup(config.name, "controlPlane", "control-plane", "platform.machines.controlPlane", config.machines.controlPlane, problems),
        ...Object.entries(config.machines.workers)
            .sort(([a], [b]) => a.localeCompare(b))
            .flatMap(([k, g]) => expandGroup(config.name, k, "worker", `platform.machines.workers.${k}`, g, problems)),
        ...(config.machines.registry ? expandGroup(config.name, "registry", "registry", "platform.machines.registry", config.machines.registry, problems) : []),
    ];
    const { plan, problems: netProblems } = buildIpPlan(config.network, expanded.map((e) => e.request), "platform.network");
    problems.push(...netProblems);
    if (problems.length > 0 || !plan) return { problems };
    const machines = expanded.map(({ request, ...m }) => ({ ...m, address: plan.addresses[m.name] }));
    return { spec: { config, machines, ipPlan: plan }, problems };
}
