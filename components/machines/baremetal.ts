import { remote } from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { asRoot } from "../kit/shell";
import { BareMetalBackendConfig } from "./config";
import { convergeCommand } from "./converge";
import { Bootstrap, Machine, machineOf, MachineSpec, SshConnectionArgs, SshProxyArgs } from "./machine";

/** The bare-metal bootstrap's inputs that change with the rendered script: left as first run (like a VM's user-data). */
export const FIRST_BOOT_ONLY = ["stdin", "environment"];

/** SSH to a bare-metal host: the backend's user and port, the configured key (a secret), patient dialling; through the bastion when there is one. */
export function bareMetalConnection(spec: Pick<MachineSpec, "address">, backend: BareMetalBackendConfig, privateKey: pulumi.Input<string>, bastion?: SshProxyArgs): SshConnectionArgs {
    return { host: spec.address, port: backend.sshPort, user: backend.sshUser, privateKey: pulumi.secret(privateKey), dialErrorLimit: 20, ...(bastion ? { proxy: bastion } : {}) };
}

export interface BareMetalMachineArgs {
    spec: MachineSpec;
    backend: BareMetalBackendConfig;
    /** SSH private key for backend.sshUser: a Pulumi secret (groundwork:sshPrivateKey). */
    privateKey: pulumi.Input<string>;
    bootstrap: Bootstrap;
    /** The login user the bootstrap creates (reported in the Machine contract). */
    sshUser: string;
    /** machines.sshBastion: the jump host SSH goes through. Defaults to none. */
    bastion?: SshProxyArgs;
}

/**
 * An existing server: nothing is created. Its first boot is the bootstrap sent over SSH through the
 * converge script (CONVERGE_SCRIPT, which records what it applied), the bare-metal counterpart of
 * a VM's user-data: like user-data it is not run again by this resource when the rendered script
 * changes later (those changes reach the host through the platform's Convergence, in the rollout's
 * order).
 */
export class BareMetalMachine extends pulumi.ComponentResource {
    public readonly machine: Machine;
    public readonly bootstrapRun: remote.Command;
    /** Runs the bootstrap's reset script when the host leaves the platform (backends.baremetal.onDestroy). */
    public readonly resetOnDestroy?: remote.Command;
    /** SSH to the host as the backend is configured (the key a Pulumi secret). */
    public readonly connection: SshConnectionArgs;

    constructor(name: string, args: BareMetalMachineArgs, opts?: pulumi.ComponentResourceOptions) {
        super("groundwork:machines:BareMetalMachine", name, {}, opts);
        const { spec, backend } = args;
        const connection = bareMetalConnection(spec, backend, args.privateKey, args.bastion);
        this.connection = connection;
        // The script holds no join material and kubeadm is told not to print it, so the progress
        // stays visible; the outputs stay secret for anything a tool may echo.
        this.bootstrapRun = convergeCommand(`${name}-bootstrap`, { connection, bootstrap: args.bootstrap }, { parent: this, ignoreChanges: FIRST_BOOT_ONLY });
        if (args.bootstrap.reset !== undefined) {
            // Its own resource: it only runs when the host leaves the platform, never when the
            // bootstrap changes. A changed reset script is stored in place.
            this.resetOnDestroy = new remote.Command(
                `${name}-reset`,
                {
                    connection,
                    create: "true",
                    update: "true",
                    delete: pulumi.output(args.bootstrap.reset).apply(asRoot),
                },
                { parent: this, dependsOn: [this.bootstrapRun] },
            );
        }
        // Layers above depend on the reset when there is one: it comes after the bootstrap, and on
        // destroy it runs only after everything on the cluster is gone (their API is still up).
        this.machine = machineOf(spec, args.sshUser, this.resetOnDestroy ?? this.bootstrapRun, pulumi.output(spec.name), []);
        this.registerOutputs({ bmc: spec.bmc });
    }
}
