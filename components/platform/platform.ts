import * as pulumi from "@pulumi/pulumi";
import { BootstrapIdentity, BootstrapPart, renderBootstrapScript, renderUserData } from "../engine/bootstrap";
import { Backends, Bootstrap, Machine, MachinePool, MachineSpec, OpenStackFoundation, platformPorts, SubnetInfo, VsphereFoundation } from "../machines";
import { PlatformSpec } from "./config";

/** Secrets from their own config keys; each stays a Pulumi secret. */
export interface PlatformSecrets {
    vspherePassword?: pulumi.Input<string>;
    sshPrivateKey?: pulumi.Input<string>;
}

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

/** Default registry ports by mode (used for firewall rules). */
export function registryPort(spec: PlatformSpec): number | undefined {
    const r = spec.config.registry;
    if (r.mode === "none") return undefined;
    return r.port ?? (r.mode === "standalone" ? 5000 : 443);
}

/**
 * The whole platform from one typed config: network → machines → engine → registry → cluster →
 * add-ons. Layers above `machines` see only the Machine contract.
 */
export class Platform extends pulumi.ComponentResource {
    public readonly inventory: pulumi.Output<InventoryEntry[]>;
    public readonly vip: pulumi.Output<string | undefined>;
    public readonly machines: Machine[];

    constructor(name: string, args: PlatformArgs, opts?: pulumi.ComponentResourceOptions) {
        super("groundwork:platform:Platform", name, {}, opts);
        const { spec } = args;
        const c = spec.config;
        const child = { parent: this };
        const subnet: SubnetInfo = { cidr: spec.ipPlan.cidr, prefix: spec.ipPlan.prefix, gateway: spec.ipPlan.gateway, dns: c.network.dns };
        const used = new Set(spec.machines.map((m) => m.backend));

        const backends: Backends = {};
        if (used.has("openstack")) {
            backends.openstack = new OpenStackFoundation(
                `${name}-openstack`,
                {
                    backend: c.backends.openstack!,
                    subnet,
                    ports: platformPorts(c.cluster.cni.kind, registryPort(spec)),
                    sshAuthorizedKeys: c.machines.sshAuthorizedKeys,
                    controlPlaneGroup: spec.machines.some((m) => m.role === "control-plane" && m.backend === "openstack"),
                    environment: c.environment,
                },
                child,
            );
        }
        if (used.has("vsphere")) {
            backends.vsphere = new VsphereFoundation(`${name}-vsphere`, { backend: c.backends.vsphere!, password: pulumi.secret(args.secrets?.vspherePassword ?? ""), environment: c.environment }, child);
        }
        if (used.has("baremetal")) {
            backends.baremetal = { backend: c.backends.baremetal ?? { sshUser: "root", sshPort: 22 }, privateKey: pulumi.secret(args.secrets?.sshPrivateKey ?? "") };
        }

        const bootstrap = (m: MachineSpec): Bootstrap => {
            const identity: BootstrapIdentity = { hostname: m.name, sshUser: c.machines.sshUser, sshAuthorizedKeys: c.machines.sshAuthorizedKeys };
            const parts: BootstrapPart[] = [];
            const script = renderBootstrapScript(identity, parts);
            return { script, userData: renderUserData(identity, script) };
        };

        const groups = new Map<string, MachineSpec[]>();
        for (const m of spec.machines) groups.set(m.group, [...(groups.get(m.group) ?? []), m]);
        this.machines = [...groups.entries()].flatMap(([group, specs]) => {
            const poolName = `${name}-${group === "controlPlane" ? "cp" : group}`;
            return new MachinePool(poolName, { specs, bootstrap, sshUser: c.machines.sshUser, subnet, backends }, child).machines;
        });

        this.inventory = pulumi.output(this.machines.map((m) => ({ name: m.name, role: m.role, address: m.address, backend: m.backend })));
        this.vip = pulumi.output(spec.ipPlan.vip);
        this.registerOutputs({ inventory: this.inventory, vip: this.vip });
    }
}
