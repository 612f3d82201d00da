import * as pulumi from "@pulumi/pulumi";
import { BareMetalMachine } from "./baremetal";
import { BareMetalBackendConfig } from "./config";
import { Bootstrap, Machine, MachineSpec, SshProxyArgs, SubnetInfo } from "./machine";
import { OpenStackFoundation, OpenStackMachine } from "./openstack";
import { VsphereFoundation, VsphereMachine } from "./vsphere";

/** What each backend needs beyond the machine itself; only the backends in use are set. */
export interface Backends {
    openstack?: OpenStackFoundation;
    vsphere?: VsphereFoundation;
    baremetal?: { backend: BareMetalBackendConfig; privateKey: pulumi.Input<string> };
    /** machines.sshBastion: the jump host every SSH connection goes through (its key a secret). Defaults to none. */
    sshBastion?: SshProxyArgs;
}

export interface MachinePoolArgs {
    /** The machines of one group (one role, one backend), from the IP plan. */
    specs: MachineSpec[];
    /** The bootstrap each machine runs first (rendered by the engine layer). */
    bootstrap: (spec: MachineSpec) => Bootstrap;
    /** Login user created by the bootstrap. */
    sshUser: string;
    subnet: SubnetInfo;
    backends: Backends;
    /**
     * VMs' user-data is the first boot only (machines.onChange: converge; the platform converges
     * them over SSH). Defaults to false: a changed user-data replaces the VM.
     */
    firstBootOnly?: boolean;
}

function missing(backend: string): never {
    throw new Error(`machines of backend ${backend} need backends.${backend} in the stack config`);
}

/** N machines of one role: each created by its backend, all returned as the same Machine contract. */
export class MachinePool extends pulumi.ComponentResource {
    public readonly machines: Machine[];

    constructor(name: string, args: MachinePoolArgs, opts?: pulumi.ComponentResourceOptions) {
        super("groundwork:machines:Pool", name, {}, opts);
        const child = { parent: this };
        this.machines = args.specs.map((spec) => {
            const bootstrap = args.bootstrap(spec);
            const kind = spec.backend;
            const firstBootOnly = args.firstBootOnly ?? false;
            switch (kind) {
                case "openstack":
                    return new OpenStackMachine(`${name}-${spec.ordinal}`, { spec, bootstrap, sshUser: args.sshUser, foundation: args.backends.openstack ?? missing(kind), firstBootOnly }, child).machine;
                case "vsphere":
                    return new VsphereMachine(`${name}-${spec.ordinal}`, { spec, bootstrap, sshUser: args.sshUser, subnet: args.subnet, foundation: args.backends.vsphere ?? missing(kind), firstBootOnly }, child).machine;
                case "baremetal": {
                    const bm = args.backends.baremetal ?? missing(kind);
                    return new BareMetalMachine(`${name}-${spec.name}`, { spec, bootstrap, sshUser: args.sshUser, backend: bm.backend, privateKey: bm.privateKey, bastion: args.backends.sshBastion }, child).machine;
                }
                default: {
                    const unknown: never = kind;
                    throw new Error(`unknown backend ${String(unknown)}`);
                }
            }
        });
        this.registerOutputs({ names: this.machines.map((m) => m.name), addresses: this.machines.map((m) => m.address) });
    }
}
