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
import { addonStorageClass } from "../cluster/versions";
import { imageThroughRegistry, registryEndpoint } from "../registry/endpoint";
import { appsConfig, appsProblems, EffectiveApps, resolveApps, STATEFUL_ROLES, workloadImages } from "../workloads/config";
import { deployProblems } from "./rules";

export { Problem } from "../kit/problems";
export { MachineRole, MachineSpec } from "../machines/machine";

/** The one structured key groundwork reads: `groundwork:platform`. */
export const PLATFORM_KEY = "groundwork:platform";
/** Secrets live in their own keys so they stay Pulumi secrets (`pulumi config set --secret`). */
export const SECRET_KEYS = {
    vspherePassword: "groundwork:vspherePassword",
    sshPrivateKey: "groundwork:sshPrivateKey",
    openstackApplicationCredentialId: "groundwork:openstackApplicationCredentialId",
    openstackApplicationCredentialSecret: "groundwork:openstackApplicationCredentialSecret",
    etcdSnapshotS3AccessKeyId: "groundwork:etcdSnapshotS3AccessKeyId",
    etcdSnapshotS3SecretAccessKey: "groundwork:etcdSnapshotS3SecretAccessKey",
    registryTlsCert: "groundwork:registryTlsCert",
    registryTlsKey: "groundwork:registryTlsKey",
    sshBastionPrivateKey: "groundwork:sshBastionPrivateKey",
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
        /** The app matrix; resolved against its profile into EffectiveApps by parsePlatform. */
        apps: appsConfig.optional(),
    })
    .strict();

/** The validated config with every default applied, the app matrix included. */
export type PlatformConfig = Omit<z.infer<typeof platformConfig>, "apps"> & { apps: EffectiveApps };
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

/** Whether the OpenStack cloud controller and Cinder CSI run: the cluster is built, with integration on and OpenStack nodes. */
export function openstackCloudIntegration(c: PlatformConfig): boolean {
    const nodes = [c.machines.controlPlane, ...Object.values(c.machines.workers)];
    return c.upTo === "all" && c.cluster.addons.cloudIntegration && nodes.some((g) => g.backend === "openstack");
}

/** Whether etcd snapshots go to S3 (and need its keys). */
export function etcdSnapshotsToS3(c: PlatformConfig): boolean {
    const s = c.cluster.addons.etcdSnapshots;
    return c.upTo === "all" && s.enabled && s.target.kind === "s3";
}

/** The credentials the add-ons log in with: each a secret key, named when missing. */
function credentialChecks(c: PlatformConfig, secrets: ReadonlySet<SecretName>, p: (path: string, message: string) => void) {
    const setIt = (name: SecretName) => `set it with \`pulumi config set --secret ${SECRET_KEYS[name]}\``;
    if (openstackCloudIntegration(c)) {
        const why = "the OpenStack cloud controller and Cinder CSI log in with it (or set cluster.addons.cloudIntegration: false)";
        if (c.backends.openstack !== undefined && c.backends.openstack.authUrl === undefined) {
            p("backends.openstack.authUrl", `is required when cluster.addons.cloudIntegration is on: ${why.replace(" with it", " there")}`);
        }
        for (const name of ["openstackApplicationCredentialId", "openstackApplicationCredentialSecret"] as const) {
            if (!secrets.has(name)) p("cluster.addons.cloudIntegration", `needs the secret ${SECRET_KEYS[name]}: ${why}; ${setIt(name)}`);
        }
    }
    const harbor = c.registry.harbor;
    // Harbor is built (and needs its certificate) only when the stack goes past machines.
    if (c.registry.mode === "harbor" && harbor.tls === "provided" && c.upTo === "all") {
        if (harbor.caCertificate === undefined) p("registry.harbor.caCertificate", `is required when registry.harbor.tls is provided: the CA that signed ${SECRET_KEYS.registryTlsCert}, which every node trusts`);
        const what = { registryTlsCert: "Harbor's server certificate (PEM) for registry.hostname", registryTlsKey: "its private key (PEM)" } as const;
        for (const name of ["registryTlsCert", "registryTlsKey"] as const) {
            if (!secrets.has(name)) p("registry.harbor.tls", `is provided: needs the secret ${SECRET_KEYS[name]}, ${what[name]}; ${setIt(name)}`);
        }
    } else if (harbor.caCertificate !== undefined && harbor.tls !== "provided") {
        p("registry.harbor.caCertificate", `is used only when registry.harbor.tls is provided (with ${harbor.tls}, groundwork makes the CA)`);
    }
    if (etcdSnapshotsToS3(c)) {
        for (const name of ["etcdSnapshotS3AccessKeyId", "etcdSnapshotS3SecretAccessKey"] as const) {
            if (!secrets.has(name)) p("cluster.addons.etcdSnapshots.target", `needs the secret ${SECRET_KEYS[name]}: the snapshot job writes to the bucket with it; ${setIt(name)}`);
        }
    }
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
    credentialChecks(c, secrets, p);
    if (c.machines.sshBastion !== undefined && !secrets.has("sshBastionPrivateKey")) {
        p("machines.sshBastion", `needs the secret ${SECRET_KEYS.sshBastionPrivateKey} (the bastion's key for ${c.machines.sshBastion.user}); set it with \`pulumi config set --secret ${SECRET_KEYS.sshBastionPrivateKey} < key\``);
    }
    if (c.machines.onChange === "replace" && c.upTo !== "machines") {
        p("machines.onChange", `replace is only allowed with upTo: machines: a control plane or registry replaced by a new first boot loses the cluster's and the registry's state (upTo is ${c.upTo}); use converge`);
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
    storageProblems(c, problems);
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

/** Stateful workloads need a StorageClass: one the user names, or the one the cluster's add-ons make. */
function storageProblems(c: PlatformConfig, problems: Problem[]) {
    const stateful = Object.entries(c.apps.workloads).filter(([, w]) => STATEFUL_ROLES.includes(w.role)).map(([n]) => n);
    if (stateful.length > 0 && c.apps.storageClass === undefined) {
        problems.push({
            path: "platform.apps.storageClass",
            message: `is required: ${stateful.join(", ")} keep data on volumes and the cluster's add-ons make no StorageClass here (only Cinder CSI on OpenStack does); name one the cluster has`,
        });
    }
}

/** When air-gapped, every workload image must come from an upstream the platform registry serves. */
function airGapProblems(c: PlatformConfig, machines: MachineSpec[]): Problem[] {
    const wired = c.registry.mode === "standalone" || (c.registry.mode === "harbor" && c.upTo === "all");
    if (!c.registry.airGapped || !wired) return [];
    const endpoint = registryEndpoint(c.registry, machines, "");
    if (!endpoint) return [];
    const out: Problem[] = [];
    for (const [name, w] of Object.entries(c.apps.workloads)) {
        for (const image of workloadImages({ ...c.apps, workloads: { [name]: w } })) {
            if (imageThroughRegistry(image, endpoint) !== undefined) continue;
            const served = endpoint.mirrors.map((m) => m.host).join(", ") || "no upstream";
            const remedy = c.registry.mode === "harbor" ? "use an image from one of those or add a proxy cache for its registry" : "use an image from one of those (groundwork seed copies it in under the same path)";
            out.push({ path: `platform.apps.workloads.${name}.image`, message: `${image}: the registry is air-gapped and serves ${served} only; ${remedy}` });
        }
    }
    return out;
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
    const problems: Problem[] = [];
    const rawApps = parsed.data.apps ?? { workloads: {} };
    problems.push(...appsProblems(rawApps, "platform.apps"));
    const backends = new Set([parsed.data.machines.controlPlane, ...Object.values(parsed.data.machines.workers)].map((g) => g.backend));
    const storageClass = rawApps.storageClass ?? addonStorageClass(parsed.data.cluster, backends);
    const config: PlatformConfig = { ...parsed.data, apps: resolveApps(rawApps, parsed.data.environment, storageClass) };
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
    problems.push(...airGapProblems(config, machines));
    if (problems.length > 0) return { problems };
    return { spec: { config, machines, ipPlan: plan }, problems };
}
