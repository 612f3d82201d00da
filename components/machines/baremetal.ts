import { remote } from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import { asRoot } from "../kit/shell";
import { BareMetalBackendConfig } from "./config";
import { Bootstrap, Machine, machineOf, MachineSpec } from "./machine";

export interface BareMetalMachineArgs {
    spec: MachineSpec;
    backend: BareMetalBackendConfig;
    /** SSH private key for backend.sshUser: a Pulumi secret (groundwork:sshPrivateKey). */
    privateKey: pulumi.Input<string>;
    bootstrap: Bootstrap;
    /** The login user the bootstrap creates (reported in the Machine contract). */
    sshUser: string;
}

/** Runs the script as root: directly when already root, otherwise through passwordless sudo. */
export const RUN_AS_ROOT = 'if [ "$(id -u)" -eq 0 ]; then bash -s; else sudo -n bash -s; fi';

export function scriptDigest(script: string): string {
    return createHash("sha256").update(script, "utf8").digest("hex");
}

/**
 * An existing server: nothing is created. The bootstrap script goes over SSH, and runs again only
 * when the rendered script changes (its digest is the trigger).
 */
export class BareMetalMachine extends pulumi.ComponentResource {
    public readonly machine: Machine;
    public readonly bootstrapRun: remote.Command;
    /** Runs the bootstrap's reset script when the host leaves the platform (backends.baremetal.onDestroy). */
    public readonly resetOnDestroy?: remote.Command;

    constructor(name: string, args: BareMetalMachineArgs, opts?: pulumi.ComponentResourceOptions) {
        super("groundwork:machines:BareMetalMachine", name, {}, opts);
        const { spec, backend } = args;
        const script = pulumi.output(args.bootstrap.script);
        this.bootstrapRun = new remote.Command(
            `${name}-bootstrap`,
            {
                connection: { host: spec.address, port: backend.sshPort, user: backend.sshUser, privateKey: pulumi.secret(args.privateKey), dialErrorLimit: 20 },
                create: RUN_AS_ROOT,
                stdin: script,
                triggers: [script.apply(scriptDigest)],
            },
            // The script holds no join material and kubeadm is told not to print it, so the
            // progress stays visible; the outputs stay secret for anything a tool may echo.
            { parent: this, additionalSecretOutputs: ["stdout", "stderr"] },
        );
        if (args.bootstrap.reset !== undefined) {
            // Its own resource, never replaced by a new bootstrap (a changed script replaces
            // bootstrapRun; running the reset then would wipe the host just converged): it only
            // runs when the host leaves the platform. A changed reset script is stored in place.
            this.resetOnDestroy = new remote.Command(
                `${name}-reset`,
                {
                    connection: { host: spec.address, port: backend.sshPort, user: backend.sshUser, privateKey: pulumi.secret(args.privateKey), dialErrorLimit: 20 },
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
