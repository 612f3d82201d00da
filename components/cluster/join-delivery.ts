import { remote, types } from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { Machine } from "../machines/machine";
import { JoinMaterial, RECEIVE_JOIN_MATERIAL, registerJoinScript, renderJoinMaterial } from "./join";
import { PATHS } from "./parts";
import { joinToken } from "./secrets";

export type SshConnection = types.input.remote.ConnectionArgs;

export interface MachineJoinArgs {
    machine: Machine;
    /** The machine that runs `kubeadm init`; every other machine is registered on it. */
    first: Machine;
    /** SSH to `machine` (a root login or a passwordless sudoer; the key a Pulumi secret). */
    connection: pulumi.Input<SshConnection>;
    /** SSH to `first`; needed for every machine but the first. */
    firstConnection: pulumi.Input<SshConnection>;
    /** The cluster's certificate key (secret); control planes only. */
    certificateKey?: pulumi.Input<string>;
    /** The cluster CA's private key (secret); the first control plane only. */
    caKeyPem?: pulumi.Input<string>;
    /** Run the register step after this (the API answers). */
    apiReady: pulumi.Resource;
}

/** SSH commands carry secrets on stdin and may echo them: nothing of theirs reaches the log or state in clear. */
const QUIET: Pick<remote.CommandArgs, "logging"> = { logging: "none" };
const SECRET_OUTPUTS = ["stdout", "stderr"];

/**
 * One machine's join material, made and delivered when the machine needs it: its own token (new
 * when the machine is replaced: the backend id is a keeper), registered with a bounded TTL on the
 * first control plane right before the delivery (with the control-plane certificates uploaded
 * again for a control plane), then written over SSH into the root-only file its bootstrap waits
 * for. The first control plane's token is in its own InitConfiguration instead.
 */
export class MachineJoin extends pulumi.ComponentResource {
    public readonly delivery: remote.Command;
    public readonly register?: remote.Command;
    /** The machine's token (secret). */
    public readonly token: pulumi.Output<string>;
    public readonly machineName: string;

    constructor(name: string, args: MachineJoinArgs, opts?: pulumi.ComponentResourceOptions) {
        super("groundwork:cluster:MachineJoin", name, {}, opts);
        const child = { parent: this };
        const m = args.machine;
        const isFirst = m.name === args.first.name;
        this.machineName = m.name;
        this.token = joinToken(`${name}-token`, child, { machine: m.id });
        const material = pulumi.secret(
            pulumi.all([this.token, args.certificateKey, args.caKeyPem]).apply(([token, certificateKey, caKeyPem]) =>
                renderJoinMaterial({ token, ...(m.role === "control-plane" ? { certificateKey } : {}), ...(isFirst ? { caKeyPem } : {}) } as JoinMaterial),
            ),
        );
        const after: pulumi.Resource[] = [...m.reachableAfter];
        if (!isFirst) {
            this.register = new remote.Command(
                `${name}-register`,
                { connection: args.firstConnection, create: registerJoinScript(m.name, PATHS.clusterConfig), stdin: material, triggers: [m.id], ...QUIET },
                { ...child, dependsOn: [args.apiReady], additionalSecretOutputs: SECRET_OUTPUTS },
            );
            after.push(this.register);
        }
        this.delivery = new remote.Command(
            `${name}-deliver`,
            { connection: args.connection, create: RECEIVE_JOIN_MATERIAL, stdin: material, triggers: [m.id], ...QUIET },
            { ...child, dependsOn: after, additionalSecretOutputs: SECRET_OUTPUTS },
        );
        this.registerOutputs({});
    }
}
