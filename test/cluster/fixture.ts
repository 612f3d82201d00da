import * as pulumi from "@pulumi/pulumi";
import { Cluster, ClusterSecrets, clusterBootstrap, clusterSettings, firstControlPlane, flannelOptionsOf } from "../../components/cluster";
import { Backends, BackendKind, Machine, MachinePool, MachineSpec, OpenStackFoundation, platformPorts, VsphereFoundation } from "../../components/machines";
import { parsePlatform, PlatformSpec, SECRET_KEYS, SecretName } from "../../components/platform/config";
import { nodeConnection } from "../../components/platform/platform";
import { recorder } from "../support/mocks";

/** A platform config with `controlPlanes` + `workers` machines, all on one backend. */
export function rawPlatform(backend: BackendKind, controlPlanes: number, workers: number, cluster: Record<string, unknown> = {}): Record<string, any> {
    const group = (n: number, pool: string, prefix: string, base: number) =>
        backend === "baremetal"
            ? { backend, hosts: Array.from({ length: n }, (_, i) => ({ name: `${prefix}-${i + 1}`, address: `10.20.${base}.${i + 10}` })) }
            : { backend, count: n, pool };
    return {
        name: "gw",
        environment: "dev",
        network: {
            cidr: "10.20.0.0/16",
            gateway: "10.20.0.1",
            vip: "10.20.0.10",
            pools: { control: "10.20.0.16/29", workers: "10.20.1.0/24" },
            loadBalancerPool: "10.20.9.0/28",
        },
        machines: {
            controlPlane: group(controlPlanes, "control", "gw-cp", 2),
            workers: workers > 0 ? { general: group(workers, "workers", "gw-general", 3) } : {},
            sshAuthorizedKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITestKeyTestKeyTestKeyTestKeyTestKey01 test"],
        },
        backends: {
            openstack: { network: { name: "nodes" }, flavor: "m1.medium", image: "debian-12", authUrl: "https://keystone.example:5000/v3" },
            vsphere: { server: "vc.example.com", user: "gw@vsphere.local", datacenter: "dc1", computeCluster: "c1", datastore: "ds1", network: "pg-nodes", template: "debian-12" },
            baremetal: {},
        },
        cluster: { kubernetesVersion: "1.33.13", ...cluster },
    };
}

/** Every secret key set, as in a stack whose credentials are all configured. */
export const ALL_SECRETS: ReadonlySet<SecretName> = new Set(Object.keys(SECRET_KEYS) as SecretName[]);

export function parse(raw: unknown): PlatformSpec {
    const secrets = ALL_SECRETS;
    const { spec, problems } = parsePlatform(raw, secrets);
    if (!spec) throw new Error(problems.map((p) => `${p.path}: ${p.message}`).join("\n"));
    return spec;
}

export interface Built {
    spec: PlatformSpec;
    secrets: ClusterSecrets;
    machines: Machine[];
    cluster: Cluster;
    bootstraps: Map<string, { userData: pulumi.Input<string>; script: pulumi.Input<string> }>;
}

/** Composes the layers the way the platform does: secrets → machines (with cluster bootstraps) → cluster. */
export function buildCluster(spec: PlatformSpec, name = "gw"): Built {
    const c = spec.config;
    const used = new Set(spec.machines.map((m) => m.backend));
    const subnet = { cidr: spec.ipPlan.cidr, prefix: spec.ipPlan.prefix, gateway: spec.ipPlan.gateway, dns: c.network.dns };
    const settings = clusterSettings({ config: c.cluster, clusterName: c.name, vip: spec.ipPlan.vip, engine: c.engine.kind, backends: used });
    const secrets = new ClusterSecrets(`${name}-secrets`, { clusterName: c.name, endpoint: settings.endpoint });
    const backends: Backends = {};
    if (used.has("openstack")) backends.openstack = new OpenStackFoundation(`${name}-openstack`, { backend: c.backends.openstack!, subnet, ports: platformPorts({ kind: c.cluster.cni.kind, vxlanPort: flannelOptionsOf(c.cluster.cni).port }), sshAuthorizedKeys: c.machines.sshAuthorizedKeys });
    if (used.has("vsphere")) backends.vsphere = new VsphereFoundation(`${name}-vsphere`, { backend: c.backends.vsphere!, password: pulumi.secret("vcenter-password") });
    if (used.has("baremetal")) backends.baremetal = { backend: c.backends.baremetal!, privateKey: pulumi.secret("ssh-private-key") };
    const first = firstControlPlane(spec.machines)!.name;
    const trust = secrets.trust();
    const bootstraps = new Map<string, { userData: pulumi.Input<string>; script: pulumi.Input<string> }>();
    const bootstrap = (s: MachineSpec) => {
        const identity = { hostname: s.name, sshUser: c.machines.sshUser, sshAuthorizedKeys: c.machines.sshAuthorizedKeys };
        const b = clusterBootstrap({ settings, spec: s, firstControlPlane: first, trust, identity, deployKey: s.backend === "baremetal" ? undefined : secrets.deployPublicKey });
        bootstraps.set(s.name, b);
        return b;
    };
    const groups = [...new Set(spec.machines.map((m) => m.group))];
    const machines = groups.flatMap(
        (g) => new MachinePool(`${name}-${g === "controlPlane" ? "cp" : g}`, { specs: spec.machines.filter((m) => m.group === g), bootstrap, sshUser: c.machines.sshUser, subnet, backends }).machines,
    );
    const cluster = new Cluster(name, {
        config: c.cluster,
        settings,
        secrets,
        machines,
        connections: Object.fromEntries(spec.machines.map((m) => [m.name, nodeConnection(m, c.machines.sshUser, secrets, backends)])),
        firstControlPlane: first,
        nodeCidr: spec.ipPlan.cidr,
        loadBalancerRange: spec.ipPlan.loadBalancerRange,
        credentials: used.has("vsphere") ? { vsphere: { server: "vc.example.com", datacenter: "dc1", user: "gw@vsphere.local", password: pulumi.secret("vcenter-password") } } : undefined,
    });
    return { spec, secrets, machines, cluster, bootstraps };
}

/** Waits until no new registration arrived for a while (apply chains register late). */
export async function settleAll(quietMs = 30): Promise<void> {
    let seen = -1;
    while (seen !== recorder.registrations.length) {
        seen = recorder.registrations.length;
        await new Promise((r) => setTimeout(r, quietMs));
    }
}
