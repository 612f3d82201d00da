import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { AddonCredentials, Cluster, ClusterSecrets, clusterBootstrap, firstControlPlane, flannelOptionsOf, renderOpenStackCloudConf, SshConnection } from "../cluster";
import { BootstrapIdentity, BootstrapPart, partDigests, renderBootstrapScript, renderResetScript, renderUserData, ResetMode } from "../engine/bootstrap";
import { engineParts } from "../engine/engines";
import { Backends, Bootstrap, Machine, MachinePool, MachineSpec, OpenStackFoundation, platformPorts, SubnetInfo, VsphereFoundation } from "../machines";
import { Harbor, issueRegistryTls, RegistryEndpoint, RegistryTls, StandaloneRegistry } from "../registry";
import { baremetalBackend, resetModeOf } from "../machines/config";
import { etcdSnapshotsToS3, openstackCloudIntegration, PlatformSpec, SecretName } from "./config";
import { Workloads } from "../workloads/workloads";
import { bareMetalConnection } from "../machines/baremetal";
import { Convergence } from "./convergence";
import { nodeClusterSettings, nodeEngine, nodeRegistry, platformNoProxy, registryWired, stackWorkloadContext, workloadsDeployed } from "./wiring";

/** Secrets from their own config keys (SECRET_KEYS); each stays a Pulumi secret. */
export type PlatformSecrets = Partial<Record<SecretName, pulumi.Input<string>>>;

export interface PlatformArgs {
    /** The validated stack config (parsePlatform). */
    spec: PlatformSpec;
    secrets?: PlatformSecrets;
}

/** One inventory row: what a change board reads. */
export interface InventoryEntry {
    name: string;
    role: string;
    address: string;
    backend: string;
}

/** The registry's port (for firewall rules): the same endpoint the nodes are wired to. */
export function registryPort(spec: PlatformSpec): number | undefined {
    return nodeRegistry(spec, "")?.port;
}

/**
 * What the add-ons log in with, from the secret keys (validate names any that is missing):
 * vCenter for the vSphere CPI/CSI, the OpenStack application credential as `cloud.conf`, the S3
 * keys of etcd snapshots. Every credential, and every text holding one, is a Pulumi secret.
 */
export function addonCredentials(spec: PlatformSpec, used: Set<string>, secrets: PlatformSecrets): AddonCredentials {
    const c = spec.config;
    const secret = (name: SecretName) => pulumi.secret(pulumi.output(secrets[name] ?? ""));
    const out: AddonCredentials = {};
    const vs = c.backends.vsphere;
    if (vs && used.has("vsphere")) out.vsphere = { server: vs.server, datacenter: vs.datacenter, user: vs.user, password: secret("vspherePassword"), insecure: vs.allowUnverifiedSsl };
    const os = c.backends.openstack;
    if (os?.authUrl !== undefined && openstackCloudIntegration(c)) {
        const authUrl = os.authUrl;
        out.openstackCloudConf = pulumi.secret(
            pulumi.all([secret("openstackApplicationCredentialId"), secret("openstackApplicationCredentialSecret")]).apply(([id, key]) =>
                renderOpenStackCloudConf({ authUrl, region: os.region, applicationCredentialId: id, applicationCredentialSecret: key }),
            ),
        );
    }
    if (etcdSnapshotsToS3(c)) out.etcdSnapshotS3 = { accessKeyId: secret("etcdSnapshotS3AccessKeyId"), secretAccessKey: secret("etcdSnapshotS3SecretAccessKey") };
    return out;
}

/** Harbor's TLS from the user (registry.harbor.tls: provided): the config's CA, the secret keys' certificate and key. */
export function providedRegistryTls(caPem: string, secrets: PlatformSecrets): RegistryTls {
    return { caPem: pulumi.output(caPem), certPem: pulumi.secret(pulumi.output(secrets.registryTlsCert ?? "")), keyPem: pulumi.secret(pulumi.output(secrets.registryTlsKey ?? "")) };
}

/**
 * Neutron allowed address pairs of OpenStack control-plane ports: the kube-vip VIP when the
 * cluster is built with kube-vip. Pod addresses need none: on OpenStack every CNI encapsulates
 * (Calico and Cilium: see chartValues; flannel: its only backend is VXLAN), so only node
 * addresses leave a port.
 */
export function openstackAddressPairs(spec: PlatformSpec): string[] {
    const c = spec.config;
    const kubeVip = c.upTo === "all" && c.cluster.controlPlaneEndpoint.mode === "kube-vip";
    return kubeVip && spec.ipPlan.vip !== undefined ? [spec.ipPlan.vip] : [];
}

/**
 * SSH to a machine (join material, convergence): the deploy key on VMs, the configured user and
 * key on bare metal.
 */
export function nodeConnection(m: MachineSpec, sshUser: string, secrets: Pick<ClusterSecrets, "deployPrivateKey"> | undefined, backends: Backends): SshConnection {
    const bastion = backends.sshBastion;
    const proxy = bastion ? { proxy: bastion } : {};
    if (m.backend === "baremetal") {
        const bm = backends.baremetal!;
        return bareMetalConnection(m, bm.backend, bm.privateKey, bastion);
    }
    if (!secrets) throw new Error(`${m.name}: a ${m.backend} VM is reached with the deploy key, and there is none`);
    // A new VM answers SSH only after it boots: keep dialling (about 15 minutes at most).
    return { host: m.address, port: 22, user: sshUser, privateKey: secrets.deployPrivateKey, dialErrorLimit: 90, perDialTimeout: 10, ...proxy };
}

/** The registry the nodes use, made before any machine so its CA and endpoint reach every bootstrap. */
interface RegistryPlan {
    endpoint?: RegistryEndpoint<pulumi.Output<string>>;
    standalone?: StandaloneRegistry;
    harborTls?: RegistryTls;
}

/**
 * The whole platform from one typed config: network → machines → engine → registry → cluster →
 * add-ons. Layers above `machines` see only the Machine contract. Everything a machine runs first
 * is known before it boots (the cluster CA and registry CA are generated first), so all machines
 * are created in parallel; each joins once its own join material arrives over SSH.
 */
export class Platform extends pulumi.ComponentResource {
    public readonly inventory: pulumi.Output<InventoryEntry[]>;
    public readonly vip: pulumi.Output<string | undefined>;
    public readonly machines: Machine[];
    /** Admin kubeconfig (secret); undefined when upTo is machines. */
    public readonly kubeconfig?: pulumi.Output<string>;
    /** Registry endpoint (`host:port`) and the CA nodes trust; undefined when registry.mode is none. */
    public readonly registry?: { endpoint: pulumi.Output<string>; caPem: pulumi.Output<string> };
    public readonly cluster?: Cluster;
    /** The app matrix; undefined when upTo is machines or apps.workloads is empty. */
    public readonly workloads?: Workloads;
    /** Day-2 changes over SSH in the rollout's order; undefined when no machine converges. */
    public readonly convergence?: Convergence;

    constructor(name: string, args: PlatformArgs, opts?: pulumi.ComponentResourceOptions) {
        super("groundwork:platform:Platform", name, {}, opts);
        const { spec } = args;
        const c = spec.config;
        const child = { parent: this };
        const full = c.upTo === "all";
        const subnet: SubnetInfo = { cidr: spec.ipPlan.cidr, prefix: spec.ipPlan.prefix, gateway: spec.ipPlan.gateway, dns: c.network.dns };
        const used = new Set(spec.machines.map((m) => m.backend));
        const backends = this.foundations(name, args, subnet, used);

        // Registry first: its CA and endpoint go into every node's engine configuration.
        const reg = this.planRegistry(name, spec, args.secrets ?? {});
        // A standalone registry answers only with htpasswd auth: its generated password goes into
        // every node's containerd config.toml, so the engine parts (and every bootstrap) are secret.
        const engineP: pulumi.Output<BootstrapPart[]> = pulumi.all([reg.endpoint?.caPem, reg.standalone?.password]).apply(([caPem, password]) => {
            const auth = reg.standalone && reg.endpoint && password !== undefined ? { authority: reg.endpoint.authority, username: reg.standalone.username, password } : undefined;
            const { engine, engineOptions } = nodeEngine(spec, caPem === undefined ? undefined : { caPem, auth });
            return engineParts(engine, engineOptions);
        });

        // Cluster secrets before any machine: the CA hash and token are in every node's bootstrap.
        const settings = full ? nodeClusterSettings(spec) : undefined;
        const secrets = settings ? new ClusterSecrets(`${name}-cluster-secrets`, { clusterName: c.name, endpoint: settings.endpoint }, child) : undefined;
        const trust = secrets?.trust();
        const first = firstControlPlane(spec.machines)!.name;

        // VMs are reached with a deploy key (join material, convergence): the cluster's, or one of
        // the platform's own when the stack stops below the cluster. Its public half is in each VM's
        // login user; its private half only in the state, as a secret.
        const converge = c.machines.onChange === "converge";
        const vms = spec.machines.some((m) => m.backend !== "baremetal");
        const deploy = secrets ?? (converge && vms ? platformDeployKey(`${name}-deploy-key`, this) : undefined);
        const identityOf = (m: MachineSpec): pulumi.Output<BootstrapIdentity> => {
            const base: BootstrapIdentity = { hostname: m.name, sshUser: c.machines.sshUser, sshAuthorizedKeys: c.machines.sshAuthorizedKeys };
            if (m.backend === "baremetal" || deploy === undefined) return pulumi.output(base);
            return deploy.deployPublicKey.apply((key) => ({ ...base, sshAuthorizedKeys: [...base.sshAuthorizedKeys, key.trim()] }));
        };
        /** The script, its user-data and the digests of its parts, for an identity and parts known at deploy time. */
        const rendered = (m: MachineSpec, parts: pulumi.Output<BootstrapPart[]>, secret: boolean): Bootstrap => {
            const both = pulumi.all([identityOf(m), parts]);
            const keep = (o: pulumi.Output<string>) => (secret ? pulumi.secret(o) : o);
            const script = keep(both.apply(([id, p]) => renderBootstrapScript(id, p)));
            return {
                script,
                userData: keep(pulumi.all([identityOf(m), script]).apply(([id, sc]) => renderUserData(id, sc))),
                digests: pulumi.unsecret(both.apply(([id, p]) => partDigests(id, p))),
                ...resetOf(m, parts),
            };
        };

        const resetMode = (m: MachineSpec): ResetMode | undefined => resetModeOf(c.backends, m.backend);
        const resetOf = (m: MachineSpec, parts: pulumi.Output<BootstrapPart[]>) => {
            const mode = resetMode(m);
            return mode === undefined ? {} : { reset: parts.apply((p) => renderResetScript(m.name, p, mode)) };
        };
        const bootstrap = (m: MachineSpec): Bootstrap => {
            const identity: BootstrapIdentity = { hostname: m.name, sshUser: c.machines.sshUser, sshAuthorizedKeys: c.machines.sshAuthorizedKeys };
            if (m.role === "registry" && reg.standalone) return rendered(m, reg.standalone.parts, true);
            if (settings && trust && secrets) {
                // VMs take the deploy key the join material comes with; bare metal is reached with the configured key.
                const deployKey = m.backend === "baremetal" ? undefined : secrets.deployPublicKey;
                return clusterBootstrap({ settings, spec: m, firstControlPlane: first, trust, identity, deployKey, before: engineP, resetMode: resetMode(m) });
            }
            return rendered(m, engineP, reg.standalone !== undefined);
        };
        const bootstraps = new Map<string, Bootstrap>();
        const bootstrapOnce = (m: MachineSpec): Bootstrap => {
            if (!bootstraps.has(m.name)) bootstraps.set(m.name, bootstrap(m));
            return bootstraps.get(m.name)!;
        };

        const groups = new Map<string, MachineSpec[]>();
        for (const m of spec.machines) groups.set(m.group, [...(groups.get(m.group) ?? []), m]);
        this.machines = [...groups.entries()].flatMap(([group, specs]) => {
            const poolName = `${name}-${group === "controlPlane" ? "cp" : group}`;
            return new MachinePool(poolName, { specs, bootstrap: bootstrapOnce, sshUser: c.machines.sshUser, subnet, backends, firstBootOnly: converge }, child).machines;
        });

        if (settings && secrets) {
            this.cluster = new Cluster(
                name,
                {
                    config: c.cluster,
                    settings,
                    secrets,
                    machines: this.machines,
                    connections: Object.fromEntries(spec.machines.map((m) => [m.name, nodeConnection(m, c.machines.sshUser, secrets, backends)])),
                    firstControlPlane: first,
                    nodeCidr: spec.ipPlan.cidr,
                    loadBalancerRange: spec.ipPlan.loadBalancerRange,
                    credentials: addonCredentials(spec, used, args.secrets ?? {}),
                },
                child,
            );
            this.kubeconfig = pulumi.secret(this.cluster.kubeconfig);
            const harbor = c.registry.mode === "harbor" && reg.harborTls
                ? new Harbor(`${name}-harbor`, { config: c.registry, provider: this.cluster.provider, chartRepository: c.cluster.chartRepository, tls: reg.harborTls }, child)
                : undefined;
            if (workloadsDeployed(spec)) {
                // After the add-ons (CNI, CSI for the claims) and Harbor (air-gapped pulls go through it).
                this.workloads = new Workloads(
                    `${name}-apps`,
                    { apps: c.apps, context: stackWorkloadContext(spec), provider: this.cluster.provider },
                    { ...child, dependsOn: [this.cluster.addons, ...(harbor ? [harbor.release] : [])] },
                );
            }
        }
        if (reg.endpoint) this.registry = { endpoint: pulumi.output(reg.endpoint.authority), caPem: pulumi.output(reg.endpoint.caPem) };

        // Day 2: every later change of a machine's bootstrap, over SSH, in the rollout's order.
        // Bare metal always converges; VMs unless machines.onChange is replace.
        const items = spec.machines
            .filter((m) => m.backend === "baremetal" || (converge && deploy !== undefined))
            .map((m) => ({
                spec: m,
                machine: this.machines.find((x) => x.name === m.name)!,
                bootstrap: bootstrapOnce(m),
                // Only bare metal converges without a deploy key (the filter above), and its connection uses its own key.
                connection: nodeConnection(m, c.machines.sshUser, deploy, backends),
            }));
        if (items.length > 0) {
            const rollout = c.machines.rollout;
            this.convergence = new Convergence(
                `${name}-converge`,
                {
                    items,
                    firstControlPlane: first,
                    batchSize: rollout.batchSize,
                    ...(this.cluster && secrets && settings
                        ? { cluster: { endpoint: this.cluster.endpoint, caPem: secrets.caCertPem, adminCertPem: secrets.adminCertPem, adminKeyPem: secrets.adminKeyPem, kubernetesVersion: c.cluster.kubernetesVersion, drainTimeoutSeconds: rollout.drainTimeoutSeconds, apiReady: this.cluster.apiReady } }
                        : {}),
                },
                child,
            );
        }

        this.inventory = pulumi.output(this.machines.map((m) => ({ name: m.name, role: m.role, address: m.address, backend: m.backend })));
        this.vip = pulumi.output(spec.ipPlan.vip);
        this.registerOutputs({ inventory: this.inventory, vip: this.vip, kubeconfig: this.kubeconfig, registry: this.registry });
    }

    private foundations(name: string, args: PlatformArgs, subnet: SubnetInfo, used: Set<string>): Backends {
        const { spec } = args;
        const c = spec.config;
        const child = { parent: this };
        const backends: Backends = {};
        if (used.has("openstack")) {
            backends.openstack = new OpenStackFoundation(
                `${name}-openstack`,
                {
                    backend: c.backends.openstack!,
                    subnet,
                    ports: platformPorts({ kind: c.cluster.cni.kind, vxlanPort: flannelOptionsOf(c.cluster.cni).port }, registryPort(spec)),
                    sshAuthorizedKeys: c.machines.sshAuthorizedKeys,
                    controlPlaneGroup: spec.machines.some((m) => m.role === "control-plane" && m.backend === "openstack"),
                    environment: c.environment,
                    controlPlaneAddressPairs: openstackAddressPairs(spec),
                },
                child,
            );
        }
        if (used.has("vsphere")) {
            backends.vsphere = new VsphereFoundation(`${name}-vsphere`, { backend: c.backends.vsphere!, password: pulumi.secret(args.secrets?.vspherePassword ?? ""), environment: c.environment }, child);
        }
        const bastion = c.machines.sshBastion;
        if (bastion) {
            backends.sshBastion = { host: bastion.host, port: bastion.port, user: bastion.user, privateKey: pulumi.secret(args.secrets?.sshBastionPrivateKey ?? ""), dialErrorLimit: 20 };
        }
        if (used.has("baremetal")) {
            backends.baremetal = { backend: c.backends.baremetal ?? baremetalBackend.parse({}), privateKey: pulumi.secret(args.secrets?.sshPrivateKey ?? "") };
        }
        return backends;
    }

    private planRegistry(name: string, spec: PlatformSpec, secrets: PlatformSecrets): RegistryPlan {
        const c = spec.config;
        switch (c.registry.mode) {
            case "none":
                return {};
            case "standalone": {
                const machine = spec.machines.find((m) => m.role === "registry")!;
                const standalone = new StandaloneRegistry(`${name}-registry`, { config: c.registry, machine, engine: c.engine, noProxy: platformNoProxy(spec, nodeRegistry(spec, "")) }, { parent: this });
                return { standalone, endpoint: standalone.endpoint };
            }
            case "harbor": {
                // Harbor runs on the cluster, but nodes must trust its CA from their first boot: issue it now.
                if (!registryWired(spec)) return {};
                const harborTls = c.registry.harbor.tls === "provided" ? providedRegistryTls(c.registry.harbor.caCertificate!, secrets) : issueRegistryTls(`${name}-harbor-tls`, [c.registry.hostname!], this);
                return { harborTls, endpoint: nodeRegistry(spec, harborTls.caPem) };
            }
        }
    }
}

/** The platform's own deploy key (ED25519) when no cluster makes one: the private half a secret. */
function platformDeployKey(name: string, parent: pulumi.Resource): Pick<ClusterSecrets, "deployPublicKey" | "deployPrivateKey"> {
    const key = new tls.PrivateKey(name, { algorithm: "ED25519" }, { parent, additionalSecretOutputs: ["privateKeyOpenssh", "privateKeyPem", "privateKeyPemPkcs8"] });
    return { deployPublicKey: key.publicKeyOpenssh, deployPrivateKey: pulumi.secret(key.privateKeyOpenssh) };
}
