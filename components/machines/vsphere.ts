import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import { VsphereBackendConfig } from "./config";
import { Bootstrap, Machine, machineOf, MachineSpec, SubnetInfo } from "./machine";
import { getComputeCluster, getDatacenter, getDatastore, getNetwork, getVirtualMachine, VirtualMachine, VsphereProvider } from "./vsphere-binding";

/**
 * cloud-init metadata for the VMware (guestinfo) datasource: the static address from the plan as
 * network config v2, so the guest comes up on its planned address with no DHCP.
 */
export function renderVsphereMetadata(spec: Pick<MachineSpec, "name" | "address">, subnet: SubnetInfo): string {
    const ethernet: Record<string, unknown> = {
        match: { name: "e*" },
        "set-name": "eth0",
        addresses: [`${spec.address}/${subnet.prefix}`],
        routes: [{ to: "default", via: subnet.gateway }],
    };
    if (subnet.dns.length > 0) ethernet.nameservers = { addresses: subnet.dns };
    return stringify({ "instance-id": spec.name, "local-hostname": spec.name, network: { version: 2, ethernets: { eth0: ethernet } } }, { sortMapEntries: false });
}

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

/** The guestinfo keys cloud-init's VMware datasource reads. */
export function guestinfo(userData: pulumi.Input<string>, metadata: string): Record<string, pulumi.Input<string>> {
    return {
        "guestinfo.metadata": b64(metadata),
        "guestinfo.metadata.encoding": "base64",
        "guestinfo.userdata": pulumi.output(userData).apply(b64),
        "guestinfo.userdata.encoding": "base64",
    };
}

export interface VsphereFoundationArgs {
    backend: VsphereBackendConfig;
    /** vCenter password: a Pulumi secret (groundwork:vspherePassword). */
    password: pulumi.Input<string>;
    /** Environment marker (guestinfo.groundwork.environment, read by the policy pack). Defaults to none. */
    environment?: string;
}

/** The provider and the look-ups every vSphere machine shares (datacenter, cluster, datastore, network, template). */
export class VsphereFoundation extends pulumi.ComponentResource {
    public readonly provider: VsphereProvider;
    public readonly resourcePoolId: pulumi.Output<string>;
    public readonly datastoreId: pulumi.Output<string>;
    public readonly networkId: pulumi.Output<string>;
    public readonly template: pulumi.Output<{ uuid: string; guestId: string; scsiType: string; firmware: string; adapterType: string }>;
    public readonly backend: VsphereBackendConfig;
    public readonly environment?: string;

    constructor(name: string, args: VsphereFoundationArgs, opts?: pulumi.ComponentResourceOptions) {
        super("groundwork:machines:VsphereFoundation", name, {}, opts);
        const b = args.backend;
        this.backend = b;
        this.environment = args.environment;
        this.provider = new VsphereProvider(`${name}-provider`, { vsphereServer: b.server, user: b.user, password: args.password, allowUnverifiedSsl: b.allowUnverifiedSsl }, { parent: this });
        const p = this.provider;
        const dc = getDatacenter({ name: b.datacenter }, p, this);
        this.resourcePoolId = getComputeCluster({ name: b.computeCluster, datacenterId: dc.id }, p, this).resourcePoolId;
        this.datastoreId = getDatastore({ name: b.datastore, datacenterId: dc.id }, p, this).id;
        this.networkId = getNetwork({ name: b.network, datacenterId: dc.id }, p, this).id;
        this.template = getVirtualMachine({ name: b.template, datacenterId: dc.id }, p, this).apply((t) => ({
            uuid: t.uuid,
            guestId: t.guestId,
            scsiType: t.scsiType,
            firmware: t.firmware,
            adapterType: t.networkInterfaceTypes?.[0] ?? "vmxnet3",
        }));
        this.registerOutputs({ resourcePoolId: this.resourcePoolId, datastoreId: this.datastoreId, networkId: this.networkId });
    }
}

export interface VsphereMachineArgs {
    spec: MachineSpec;
    foundation: VsphereFoundation;
    subnet: SubnetInfo;
    bootstrap: Bootstrap;
    sshUser: string;
    /** Guestinfo user-data is the first boot only (see OpenStackMachineArgs.firstBootOnly). Defaults to false. */
    firstBootOnly?: boolean;
}

/** The guestinfo key of the user-data: ignored after creation when the VM is converged over SSH. */
export const GUESTINFO_USERDATA_PATH = 'extraConfig["guestinfo.userdata"]';

/** One VM cloned from the template, configured by cloud-init through guestinfo. */
export class VsphereMachine extends pulumi.ComponentResource {
    public readonly machine: Machine;
    public readonly vm: VirtualMachine;

    constructor(name: string, args: VsphereMachineArgs, opts?: pulumi.ComponentResourceOptions) {
        super("groundwork:machines:VsphereMachine", name, {}, opts);
        const { spec, foundation: f } = args;
        const b = f.backend;
        this.vm = new VirtualMachine(
            `${name}-vm`,
            {
                name: spec.name,
                resourcePoolId: f.resourcePoolId,
                datastoreId: f.datastoreId,
                folder: b.folder,
                numCpus: spec.cpus ?? b.cpus,
                memory: spec.memoryMiB ?? b.memoryMiB,
                guestId: f.template.guestId,
                scsiType: f.template.scsiType,
                firmware: f.template.firmware,
                enableDiskUuid: true,
                waitForGuestNetTimeout: b.waitForGuestNetTimeout,
                waitForGuestIpTimeout: b.waitForGuestIpTimeout,
                networkInterfaces: [{ networkId: f.networkId, adapterType: f.template.adapterType }],
                disks: [{ label: "disk0", size: spec.diskGiB ?? b.diskGiB, thinProvisioned: true }],
                clone: { templateUuid: f.template.uuid, linkedClone: b.linkedClone },
                extraConfig: {
                    ...guestinfo(args.bootstrap.userData, renderVsphereMetadata(spec, args.subnet)),
                    "guestinfo.groundwork.role": spec.role,
                    ...(f.environment ? { "guestinfo.groundwork.environment": f.environment } : {}),
                },
            },
            // Converged VMs: a changed guestinfo user-data would do nothing on a running guest; it is left as first booted.
            // A replacement deletes the old VM first: the new one takes its name in the folder and its address.
            { parent: this, provider: f.provider, deleteBeforeReplace: true, ...(args.firstBootOnly ? { ignoreChanges: [GUESTINFO_USERDATA_PATH] } : {}) },
        );
        this.machine = machineOf(spec, args.sshUser, this.vm, this.vm.moid);
        this.registerOutputs({ moid: this.vm.moid });
    }
}
