import { local } from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Machine } from "../machines/machine";
import { AddonCredentials, ClusterAddons } from "./addons";
import { API_WAIT_SECONDS, NODE_SYNC_SCRIPT, WAIT_FOR_API_SCRIPT } from "./commands";
import { ClusterConfig } from "./config";
import { MachineJoin, SshConnection } from "./join-delivery";
import { ClusterSettings, registrationTaints } from "./kubeadm";
import { ClusterSecrets } from "./secrets";
import { formatProblems, validateCluster } from "./validate";

export interface ClusterArgs {
    /** The validated `cluster` section of the platform config. */
    config: ClusterConfig;
    /** clusterSettings(…): the very settings the machines' bootstraps were rendered with. */
    settings: ClusterSettings;
    /** Made before the machines; their bootstraps carry its CA certificate, the joins its keys. */
    secrets: ClusterSecrets;
    /** The cluster's machines (control planes and workers; others are ignored). */
    machines: Machine[];
    /**
     * SSH to every node, by machine name: join material goes over it (VMs: the login user with
     * the deploy key; bare metal: the configured SSH user and key).
     */
    connections: Record<string, pulumi.Input<SshConnection>>;
    /** Name of the machine that runs `kubeadm init`. Defaults to the first control plane in `machines`. */
    firstControlPlane?: string;
    /** The node subnet from the IP plan. */
    nodeCidr: string;
    /** MetalLB's L2 pool (`first-last`) from the IP plan. Defaults to none. */
    loadBalancerRange?: string;
    credentials?: AddonCredentials;
    /** Seconds to wait for the API, and for each node to register. Defaults to 1800. */
    waitSeconds?: number;
}

/**
 * A kubeadm cluster on machines that bootstrap themselves (see clusterBootstrap): gives each
 * machine its join material over SSH when it can join (MachineJoin), waits for the API behind the endpoint, keeps each node's labels and taints in sync with the config, and
 * installs the add-ons through a provider built from the admin kubeconfig. Node syncs and add-ons
 * run in parallel once the API answers; nothing here waits on a worker that it does not need.
 */
export class Cluster extends pulumi.ComponentResource {
    /** Admin kubeconfig (secret), signed by the cluster CA; known before the cluster exists. */
    public readonly kubeconfig: pulumi.Output<string>;
    /** For everything above the cluster layer; usable once the API answers. */
    public readonly provider: k8s.Provider;
    /** Depend on this to run after the API answers. */
    public readonly apiReady: local.Command;
    public readonly endpoint: string;
    public readonly addons: ClusterAddons;
    /** Each node's join material (token, registration, delivery over SSH). */
    public readonly joins: MachineJoin[];

    constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("groundwork:cluster:Cluster", name, {}, opts);
        const s = args.settings;
        const nodes = args.machines.filter((m) => m.role === "control-plane" || m.role === "worker");
        const controlPlanes = nodes.filter((m) => m.role === "control-plane");
        const backends = [...new Set(nodes.map((m) => m.backend))].sort();
        const problems = validateCluster({ config: args.config, nodeCidr: args.nodeCidr, vip: s.kubeVip ? s.endpoint.host : undefined, loadBalancerRange: args.loadBalancerRange, controlPlanes: controlPlanes.length, backends });
        if (problems.length > 0) throw new pulumi.ResourceError(`cluster ${name} is not valid:\n${formatProblems(problems)}`, this);
        const first = args.firstControlPlane === undefined ? controlPlanes[0] : controlPlanes.find((m) => m.name === args.firstControlPlane);
        if (first === undefined) throw new pulumi.ResourceError(`firstControlPlane ${args.firstControlPlane} is not one of the control planes: ${controlPlanes.map((m) => m.name).join(", ")}`, this);

        this.endpoint = `https://${s.endpoint.host}:${s.endpoint.port}`;
        const wait = String(args.waitSeconds ?? API_WAIT_SECONDS);
        const child = { parent: this };
        // Only the first control plane gates the API: the other control planes and the workers join on their own.
        this.apiReady = new local.Command(
            `${name}-api-ready`,
            { create: WAIT_FOR_API_SCRIPT, interpreter: ["/bin/bash", "-c"], environment: { GROUNDWORK_CA: args.secrets.caCertPem, GROUNDWORK_ENDPOINT: this.endpoint, GROUNDWORK_TIMEOUT: wait } },
            { ...child, dependsOn: [first.resource] },
        );

        const ssh = (m: Machine) => {
            const c = args.connections[m.name];
            if (c === undefined) throw new pulumi.ResourceError(`no SSH connection for ${m.name}: join material goes over SSH`, this);
            return c;
        };
        this.joins = nodes.map(
            (m) =>
                new MachineJoin(
                    `${name}-join-${m.name}`,
                    {
                        machine: m,
                        first,
                        connection: ssh(m),
                        firstConnection: ssh(first),
                        certificateKey: m.role === "control-plane" ? args.secrets.certificateKey : undefined,
                        caKeyPem: m === first ? args.secrets.caKeyPem : undefined,
                        apiReady: this.apiReady,
                    },
                    child,
                ),
        );

        for (const m of nodes) {
            const labels = JSON.stringify(Object.fromEntries(Object.entries(m.labels).sort(([a], [b]) => a.localeCompare(b))));
            const taints = JSON.stringify(registrationTaints(m));
            new local.Command(
                `${name}-node-${m.name}`,
                {
                    create: 'node -e "$GROUNDWORK_SYNC"',
                    // A changed label or taint updates the node in place (the same sync runs again).
                    update: 'node -e "$GROUNDWORK_SYNC"',
                    interpreter: ["/bin/bash", "-c"],
                    environment: {
                        GROUNDWORK_SYNC: NODE_SYNC_SCRIPT,
                        GROUNDWORK_SERVER: this.endpoint,
                        GROUNDWORK_CA: args.secrets.caCertPem,
                        GROUNDWORK_CERT: args.secrets.adminCertPem,
                        GROUNDWORK_KEY: args.secrets.adminKeyPem,
                        GROUNDWORK_NODE: m.name,
                        GROUNDWORK_LABELS: labels,
                        GROUNDWORK_TAINTS: taints,
                        GROUNDWORK_TIMEOUT: wait,
                    },
                },
                { ...child, dependsOn: [this.apiReady, m.resource] },
            );
        }

        this.kubeconfig = args.secrets.adminKubeconfig;
        this.provider = new k8s.Provider(`${name}-k8s`, { kubeconfig: this.kubeconfig }, { ...child, dependsOn: [this.apiReady] });
        this.addons = new ClusterAddons(
            `${name}-addons`,
            { config: args.config, provider: this.provider, backends, clusterName: s.clusterName, loadBalancerRange: args.loadBalancerRange, imageRepository: s.imageRepository, flannel: s.flannel, credentials: args.credentials },
            child,
        );
        this.registerOutputs({ kubeconfig: this.kubeconfig, endpoint: this.endpoint });
    }
}
