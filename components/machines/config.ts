import { z } from "zod";
import { cidr, count, dnsLabel, hostName, ipv4, labelKey, labelValue, url } from "../kit/zod-kit";

export const backends = ["openstack", "vsphere", "baremetal"] as const;
export type BackendKind = (typeof backends)[number];

export const taint = z
    .object({
        key: labelKey,
        value: z.string().optional(),
        effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]),
    })
    .strict();

export const bareMetalHost = z
    .object({
        /** Host name; becomes the machine (and Kubernetes node) name. */
        name: dnsLabel(63),
        /** The address it already has, on the node subnet. */
        address: ipv4,
        /** Out-of-band controller, kept as metadata only (groundwork never powers hosts). */
        bmc: z.object({ address: hostName, kind: z.enum(["redfish", "ipmi"]).default("redfish"), username: z.string().optional() }).strict().optional(),
    })
    .strict();

/** One group of machines of one role on one backend. */
export const machineGroup = z
    .object({
        /** How many machines. VM backends only; bare metal counts its hosts. */
        count: count(0).optional(),
        backend: z.enum(backends),
        /** network.pools entry to take addresses from. Required for VM backends. */
        pool: z.string().optional(),
        /** Retired positions: the machine `<group>-<n>` for these n is not created and no other address moves. */
        exclude: z.array(count(1)).default([]),
        labels: z.record(labelKey, labelValue).default({}),
        taints: z.array(taint).default([]),
        /** OpenStack flavor for this group. Defaults to backends.openstack.flavor. */
        flavor: z.string().min(1).optional(),
        /** vSphere sizing for this group. Defaults to backends.vsphere's. */
        cpus: count(1).optional(),
        memoryMiB: count(512).optional(),
        diskGiB: count(5).optional(),
        /** Bare-metal hosts of this group (backend baremetal only). */
        hosts: z.array(bareMetalHost).optional(),
    })
    .strict();

export const machinesConfig = z
    .object({
        controlPlane: machineGroup,
        workers: z.record(dnsLabel(20), machineGroup).default({}),
        /** The standalone registry machine (registry.mode standalone). */
        registry: machineGroup.optional(),
        /** Login user created on every machine. Defaults to `groundwork`. */
        sshUser: dnsLabel(32).default("groundwork"),
        /** Public keys allowed to log in as sshUser. Defaults to none. */
        sshAuthorizedKeys: z.array(z.string().regex(/^(ssh-(ed25519|rsa)|ecdsa-sha2-nistp\d+) [A-Za-z0-9+/=]+( .*)?$/, "must be an OpenSSH public key line (ssh-ed25519 AAAA… comment)")).default([]),
        /**
         * What a change of a VM's rendered bootstrap does after its first boot. `converge` (the
         * default): user-data (cloud-init, guestinfo) is the first boot only; the new bootstrap
         * runs over SSH, in place, on the machines whose script changed. `replace`: the machine
         * is replaced with the new user-data — only for stacks that stop at machines (nothing on
         * them to lose), or where the Pulumi host cannot reach the machines at all. Bare metal
         * always converges.
         */
        onChange: z.enum(["converge", "replace"]).default("converge"),
        /**
         * A jump host every SSH connection of the program goes through (join material, converges,
         * bare-metal bootstraps), for sites where the Pulumi host cannot reach the node subnet.
         * Its key is the secret groundwork:sshBastionPrivateKey. The API endpoint must still be
         * reachable from the Pulumi host (the Kubernetes provider, node syncs, drains). Defaults to none.
         */
        sshBastion: z.object({ host: hostName, port: count(1).max(65535).default(22), user: z.string().min(1).default("groundwork") }).strict().optional(),
        /**
         * The order changes reach running machines in: the registry machine, then the control
         * planes one at a time, then the workers `batchSize` at a time. Around a Kubernetes
         * version change each node is drained first (PodDisruptionBudgets respected, for at most
         * `drainTimeoutSeconds`) and uncordoned once Ready at the new version.
         */
        rollout: z
            .object({
                /** Workers converged at once. Defaults to 1. */
                batchSize: count(1).default(1),
                /** Seconds a node's drain may take before the rollout stops there. Defaults to 600. */
                drainTimeoutSeconds: count(30).default(600),
            })
            .strict()
            .default({}),
    })
    .strict();

const SECRET_HINT = "secrets do not belong in groundwork:platform";

export const openstackBackend = z
    .object({
        /** Network for the machines' ports: an existing one by name, or created when `create` is true. */
        network: z.object({ name: z.string().min(1), create: z.boolean().default(false), subnetName: z.string().min(1).optional() }).strict(),
        flavor: z.string().min(1),
        image: z.string().min(1),
        /** Existing key pair name. Defaults to one created from machines.sshAuthorizedKeys[0]. */
        keyPair: z.string().min(1).optional(),
        /** Boot from a volume of this size (GiB). Defaults to the image's local disk. */
        bootVolumeGiB: count(1).optional(),
        availabilityZone: z.string().min(1).optional(),
        /** Who may reach SSH (22) and the API server (6443) from outside the node subnet. Defaults to nobody. */
        adminCidrs: z.array(cidr).default([]),
        /** Control-plane server group policy. Defaults to anti-affinity. */
        serverGroupPolicy: z.enum(["anti-affinity", "soft-anti-affinity"]).default("anti-affinity"),
        /**
         * Keystone URL the OpenStack cloud controller and Cinder CSI log in at (with the
         * application credential from the secret keys). Required when cloud integration runs.
         */
        authUrl: url().optional(),
        /** Region of the cloud's catalog. Defaults to none (the catalog's only region). */
        region: z.string().min(1).optional(),
        applicationCredentialSecret: z.never({ invalid_type_error: `${SECRET_HINT}; use \`pulumi config set --secret groundwork:openstackApplicationCredentialSecret\`` }).optional(),
    })
    .strict();

export const vsphereBackend = z
    .object({
        server: hostName,
        user: z.string().min(1),
        password: z.never({ invalid_type_error: `${SECRET_HINT}; use \`pulumi config set --secret groundwork:vspherePassword\`` }).optional(),
        allowUnverifiedSsl: z.boolean().default(false),
        datacenter: z.string().min(1),
        computeCluster: z.string().min(1),
        datastore: z.string().min(1),
        network: z.string().min(1),
        folder: z.string().min(1).optional(),
        /** VM template cloned for every machine (with cloud-init and the VMware datasource). */
        template: z.string().min(1),
        cpus: count(1).default(2),
        memoryMiB: count(512).default(4096),
        diskGiB: count(5).default(40),
        linkedClone: z.boolean().default(false),
        /** Minutes to wait for a routable guest IP after clone; 0 disables. Defaults to 5. */
        waitForGuestNetTimeout: count(0).default(5),
        /** Minutes to wait for any guest IP; 0 disables. Defaults to 0. */
        waitForGuestIpTimeout: count(0).default(0),
    })
    .strict();

export const baremetalBackend = z
    .object({
        /** SSH user the bootstrap is delivered as (needs sudo). Defaults to root. */
        sshUser: z.string().min(1).default("root"),
        sshPort: count(1).max(65535).default(22),
        /**
         * What a host gets when it leaves the platform (`pulumi destroy`, or taken out of its group):
         * `reset` kubeadm reset and groundwork's files, join material, CA copies and registry
         * configuration removed, the engine kept on its defaults; `purge` that and every package the
         * bootstrap installed (engine, Kubernetes); `keep` nothing runs.
         */
        onDestroy: z.enum(["reset", "purge", "keep"]).default("reset"),
        privateKey: z.never({ invalid_type_error: `${SECRET_HINT}; use \`pulumi config set --secret groundwork:sshPrivateKey\`` }).optional(),
    })
    .strict();

export const backendsConfig = z
    .object({
        openstack: openstackBackend.optional(),
        vsphere: vsphereBackend.optional(),
        baremetal: baremetalBackend.optional(),
    })
    .strict();

export type MachinesConfig = z.infer<typeof machinesConfig>;
export type MachineGroupConfig = z.infer<typeof machineGroup>;
export type BackendsConfig = z.infer<typeof backendsConfig>;
export type OpenStackBackendConfig = z.infer<typeof openstackBackend>;
export type VsphereBackendConfig = z.infer<typeof vsphereBackend>;
export type BareMetalBackendConfig = z.infer<typeof baremetalBackend>;

/** The reset a machine runs when it leaves the platform: bare metal only (VMs are deleted), none with `onDestroy: keep`. */
export function resetModeOf(backends: BackendsConfig, machineBackend: string): "reset" | "purge" | undefined {
    const mode = (backends.baremetal ?? baremetalBackend.parse({})).onDestroy;
    return machineBackend === "baremetal" && mode !== "keep" ? mode : undefined;
}
export type Taint = z.infer<typeof taint>;
