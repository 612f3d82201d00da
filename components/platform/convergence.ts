import { local, remote } from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { bareVersion } from "../cluster/versions";
import { NODE_DRAIN_SCRIPT, NODE_UNCORDON_SCRIPT } from "../cluster/rollout";
import { etcdLeaveScript, NODE_LEAVE_SCRIPT, TEARDOWN_MARK_SCRIPT } from "../cluster/scale-in";
import { CertificateExpiry, parseExpiryReport, REPORT_CERTIFICATES_COMMAND } from "../cluster/certificates";
import { asRoot } from "../kit/shell";
import { Bootstrap, Machine, MachineSpec, SshConnectionArgs } from "../machines/machine";
import { convergeCommand } from "../machines/converge";

/** One machine the rollout converges. */
export interface ConvergeItem {
    spec: MachineSpec;
    machine: Machine;
    /** The bootstrap as rendered now (its first boot may have been an older one). */
    bootstrap: Bootstrap;
    connection: pulumi.Input<SshConnectionArgs>;
}

/**
 * The rollout's order, in waves: the registry machine first (the nodes pull from it), then the
 * control planes one at a time (the one that ran `kubeadm init` first: it runs `kubeadm upgrade
 * apply`), then the workers in batches of `batchSize`, group by group in config order.
 */
export function rolloutWaves<T extends Pick<MachineSpec, "name" | "role">>(specs: T[], firstControlPlane: string | undefined, batchSize: number): T[][] {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`rollout batch size must be a whole number of at least 1, got ${batchSize}`);
    const waves: T[][] = specs.filter((s) => s.role === "registry").map((s) => [s]);
    const cps = specs.filter((s) => s.role === "control-plane");
    const first = cps.find((s) => s.name === firstControlPlane);
    for (const cp of [...(first ? [first] : []), ...cps.filter((s) => s !== first)]) waves.push([cp]);
    const workers = specs.filter((s) => s.role === "worker");
    for (let i = 0; i < workers.length; i += batchSize) waves.push(workers.slice(i, i + batchSize));
    return waves;
}

/** What the drain and uncordon around a node's converge need: the API as the admin, and the version. */
export interface RolloutCluster {
    /** `https://host:port` of the control-plane endpoint. */
    endpoint: string;
    caPem: pulumi.Input<string>;
    adminCertPem: pulumi.Input<string>;
    adminKeyPem: pulumi.Input<string>;
    kubernetesVersion: string;
    drainTimeoutSeconds: number;
    /** The API answers (the drain of a node runs after it). */
    apiReady: pulumi.Resource;
}

export interface ConvergenceArgs {
    items: ConvergeItem[];
    firstControlPlane?: string;
    batchSize: number;
    /** Kubernetes nodes are drained and uncordoned around a version change. Undefined below the cluster layer. */
    cluster?: RolloutCluster;
}

/** One machine's steps in the rollout. */
export interface RolloutSteps {
    name: string;
    drain?: local.Command;
    converge: remote.Command;
    uncordon?: local.Command;
    /** Before the machine goes (scale-in, replacement): drain, quorum check, Node deleted. */
    leave?: local.Command;
    /** Control planes, after the leave: the node's own etcd member removed, on the machine. */
    etcdLeave?: remote.Command;
    /** Control planes: kubeadm's certificates' expiry, read after each converge. */
    certificates?: remote.Command;
}

/**
 * Every change of a machine's rendered bootstrap after its first boot, in the rollout's order
 * (rolloutWaves): each wave's machines converge over SSH (CONVERGE_SCRIPT: only a changed script
 * runs) after the wave before ended. Kubernetes nodes are drained before and uncordoned after
 * when the Kubernetes version changes (the bootstrap then upgrades the node with kubeadm); the
 * drain and uncordon do nothing for any other change. A failed step stops the waves after it; the
 * next `pulumi up` resumes there (what converged is recorded on the machine and in the state).
 */
export class Convergence extends pulumi.ComponentResource {
    public readonly steps: RolloutSteps[] = [];
    public readonly waves: string[][];
    /** Every node's leave step (scale-in). */
    public readonly leaves: local.Command[] = [];
    /** Each control plane's kubeadm certificates: their notAfter and the earliest (a stack output). */
    public readonly certificateExpiry?: pulumi.Output<Record<string, CertificateExpiry>>;
    /** The full destroy's mark (scale-in.ts); set when there are nodes. */
    public readonly teardownMark?: local.Command;

    constructor(name: string, args: ConvergenceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("groundwork:platform:Convergence", name, {}, opts);
        const child = { parent: this };
        const byName = new Map(args.items.map((i) => [i.spec.name, i]));
        const waves = rolloutWaves(args.items.map((i) => i.spec), args.firstControlPlane, args.batchSize);
        this.waves = waves.map((w) => w.map((s) => s.name));
        const c = args.cluster;
        let previous: pulumi.Resource[] = [];
        const expiry: pulumi.Output<readonly [string, CertificateExpiry | undefined]>[] = [];
        for (const wave of waves) {
            const tails: pulumi.Resource[] = [];
            for (const spec of wave) {
                const item = byName.get(spec.name)!;
                const node = c !== undefined && spec.role !== "registry";
                // The leave's has no kubelet version: a version bump leaves it unchanged.
                const env = (step: string) => ({
                    GROUNDWORK_STEP: step,
                    GROUNDWORK_SERVER: c!.endpoint,
                    GROUNDWORK_CA: c!.caPem,
                    GROUNDWORK_CERT: c!.adminCertPem,
                    GROUNDWORK_KEY: c!.adminKeyPem,
                    GROUNDWORK_NODE: spec.name,
                    GROUNDWORK_TIMEOUT: String(c!.drainTimeoutSeconds),
                    ...(step === "leave" ? {} : { GROUNDWORK_KUBELET_VERSION: `v${bareVersion(c!.kubernetesVersion)}` }),
                });
                // Drain and uncordon run only on an update (a version change); created, they do nothing.
                const drain = node
                    ? new local.Command(`${name}-${spec.name}-drain`, { update: 'node -e "$GROUNDWORK_SCRIPT"', interpreter: ["/bin/bash", "-c"], environment: { ...env("drain"), GROUNDWORK_SCRIPT: NODE_DRAIN_SCRIPT } }, { ...child, dependsOn: [...previous, item.machine.resource, c!.apiReady] })
                    : undefined;
                const converge = convergeCommand(
                    `${name}-${spec.name}`,
                    { connection: item.connection, bootstrap: item.bootstrap, ...(spec.backend === "baremetal" ? {} : { machineId: item.machine.id }) },
                    { ...child, dependsOn: [...previous, item.machine.resource, ...(drain ? [drain] : [])] },
                );
                const uncordon = node
                    ? new local.Command(`${name}-${spec.name}-uncordon`, { update: 'node -e "$GROUNDWORK_SCRIPT"', interpreter: ["/bin/bash", "-c"], environment: { ...env("uncordon"), GROUNDWORK_SCRIPT: NODE_UNCORDON_SCRIPT } }, { ...child, dependsOn: [converge] })
                    : undefined;
                // Scale-in and replacement: steps with only a delete, which Pulumi runs before the
                // machine's own (they depend on it), and again for a machine replaced (its id is their trigger).
                const triggers = spec.backend === "baremetal" ? undefined : [item.machine.id];
                const etcdLeave =
                    node && spec.role === "control-plane"
                        ? new remote.Command(`${name}-${spec.name}-etcd-leave`, { connection: item.connection, delete: etcdLeaveScript(spec.name), ...(triggers ? { triggers } : {}) }, { ...child, dependsOn: [item.machine.resource] })
                        : undefined;
                const leave = node
                    ? new local.Command(
                          `${name}-${spec.name}-leave`,
                          { delete: 'node -e "$GROUNDWORK_SCRIPT"', interpreter: ["/bin/bash", "-c"], environment: { ...env("leave"), GROUNDWORK_ROLE: spec.role, GROUNDWORK_SCRIPT: NODE_LEAVE_SCRIPT }, ...(triggers ? { triggers } : {}) },
                          { ...child, dependsOn: [item.machine.resource, c!.apiReady, ...(etcdLeave ? [etcdLeave] : [])] },
                      )
                    : undefined;
                if (leave) this.leaves.push(leave);
                // A control plane's certificate report, read again whenever its bootstrap converged (the
                // bootstrap's digest) and so after a renewal request; the daily timer's renewals show at the next one.
                const certificates =
                    node && spec.role === "control-plane"
                        ? new remote.Command(
                              `${name}-${spec.name}-certificates`,
                              { connection: item.connection, create: asRoot(REPORT_CERTIFICATES_COMMAND), update: asRoot(REPORT_CERTIFICATES_COMMAND), environment: { GROUNDWORK_BOOTSTRAP: converge.environment.apply((e) => e?.GROUNDWORK_BOOTSTRAP ?? "") } },
                              { ...child, dependsOn: [uncordon ?? converge] },
                          )
                        : undefined;
                if (certificates) expiry.push(certificates.stdout.apply((out) => [spec.name, parseExpiryReport(out ?? "")] as const));
                this.steps.push({ name: spec.name, drain, converge, uncordon, leave, etcdLeave, certificates });
                tails.push(uncordon ?? converge);
            }
            previous = tails;
        }
        if (c && this.leaves.length > 0) {
            // Deleted first by a full destroy (it depends on every leave): the leaves then find the
            // cluster going and drain nothing. Created, it clears a mark an interrupted destroy left.
            const markEnv = { GROUNDWORK_SERVER: c.endpoint, GROUNDWORK_CA: c.caPem, GROUNDWORK_CERT: c.adminCertPem, GROUNDWORK_KEY: c.adminKeyPem, GROUNDWORK_TIMEOUT: "120", GROUNDWORK_SCRIPT: TEARDOWN_MARK_SCRIPT };
            this.teardownMark = new local.Command(
                `${name}-teardown-mark`,
                { create: 'GROUNDWORK_STEP=create node -e "$GROUNDWORK_SCRIPT"', delete: 'GROUNDWORK_STEP=delete node -e "$GROUNDWORK_SCRIPT"', interpreter: ["/bin/bash", "-c"], environment: markEnv },
                { ...child, dependsOn: this.leaves },
            );
        }
        this.certificateExpiry =
            expiry.length > 0
                ? pulumi.all(expiry).apply((rows) => Object.fromEntries(rows.filter((r): r is readonly [string, CertificateExpiry] => r[1] !== undefined).map(([n, x]) => [n, x])))
                : undefined;
        this.registerOutputs({ waves: this.waves, certificateExpiry: this.certificateExpiry });
    }
}
