import { types } from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { BackendKind, Taint } from "./config";

export type MachineRole = "control-plane" | "worker" | "registry";

/** One machine as resolved from config and the IP plan: what a backend is asked to provide. */
export interface MachineSpec {
    name: string;
    role: MachineRole;
    /** Config group: `controlPlane`, `registry` or the worker group's key. */
    group: string;
    /** 1-based position in its group (its address offset in the pool). */
    ordinal: number;
    backend: BackendKind;
    /** Static address from the IP plan, known at preview time. */
    address: string;
    labels: Record<string, string>;
    taints: Taint[];
    /** OpenStack flavor override for this machine's group. */
    flavor?: string;
    /** vSphere sizing overrides for this machine's group. */
    cpus?: number;
    memoryMiB?: number;
    diskGiB?: number;
    /** Out-of-band controller of a bare-metal host (metadata only). */
    bmc?: { address: string; kind: string; username?: string };
}

/** SSH to a machine, as @pulumi/command's remote.Command takes it. */
export type SshConnectionArgs = types.input.remote.ConnectionArgs;
/** A jump host (bastion) the connection goes through, as remote.Command's `connection.proxy` takes it. */
export type SshProxyArgs = types.input.remote.ProxyConnectionArgs;

/** The node subnet as machines need it for static addressing. */
export interface SubnetInfo {
    cidr: string;
    prefix: number;
    gateway: string;
    dns: string[];
}

/**
 * What a machine runs first. Both forms come from the same renderer: cloud-init user-data for
 * VMs, and the very same script run over SSH for bare metal (no cloud-init datasource there).
 */
export interface Bootstrap {
    /** cloud-init user-data, handed to VM backends as an opaque blob. */
    userData: pulumi.Input<string>;
    /** The bootstrap script itself, run over SSH on bare metal. */
    script: pulumi.Input<string>;
    /** The digest's inputs: each part's short digest (partDigests), shown by a preview when the machine converges. Defaults to none. */
    digests?: pulumi.Input<Record<string, string>>;
    /** Bare metal: what the host runs when it leaves the platform (renderResetScript). None: the host is left as it is. */
    reset?: pulumi.Input<string>;
}

/** The Machine contract: every backend returns this shape; layers above never see the backend. */
export interface Machine {
    readonly name: string;
    readonly role: MachineRole;
    readonly backend: BackendKind;
    /** The static address from the IP plan. */
    readonly address: string;
    readonly sshUser: string;
    readonly labels: Record<string, string>;
    readonly taints: Taint[];
    /** Depend on this to run after the machine exists (VMs) or was bootstrapped (bare metal). */
    readonly resource: pulumi.Resource;
    /** The backend's id of the machine (server id, VM moid, or the host name for bare metal). */
    readonly id: pulumi.Output<string>;
    /**
     * Depend on these to reach the machine over SSH while its bootstrap runs: the server for VMs;
     * none for bare metal, which exists already and whose `resource` is the bootstrap run itself.
     */
    readonly reachableAfter: pulumi.Resource[];
}

/** Makes the public Machine view of a backend component. */
export function machineOf(spec: MachineSpec, sshUser: string, resource: pulumi.Resource, id: pulumi.Output<string>, reachableAfter: pulumi.Resource[] = [resource]): Machine {
    return { name: spec.name, role: spec.role, backend: spec.backend, address: spec.address, sshUser, labels: spec.labels, taints: spec.taints, resource, id, reachableAfter };
}
