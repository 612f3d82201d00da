import * as pulumi from "@pulumi/pulumi";

/**
 * A small typed binding of the vSphere provider's own tokens (the npm SDK is not available to
 * us). Field names are exactly those of pulumi-vsphere's schema.json (v4 line).
 */
export const VSPHERE_PLUGIN_VERSION = "4.17.0";
const invokeOpts = (provider?: pulumi.ProviderResource, parent?: pulumi.Resource): pulumi.InvokeOutputOptions => ({ provider, parent, version: VSPHERE_PLUGIN_VERSION });

export interface VsphereProviderArgs {
    vsphereServer: pulumi.Input<string>;
    user: pulumi.Input<string>;
    /** Not marked secret in the schema: always pass a Pulumi secret. */
    password: pulumi.Input<string>;
    allowUnverifiedSsl?: pulumi.Input<boolean>;
    apiTimeout?: pulumi.Input<number>;
}

export class VsphereProvider extends pulumi.ProviderResource {
    constructor(name: string, args: VsphereProviderArgs, opts?: pulumi.ResourceOptions) {
        super("vsphere", name, { ...args, password: pulumi.secret(args.password) }, { version: VSPHERE_PLUGIN_VERSION, ...opts });
    }
}

export interface VirtualMachineNetworkInterface {
    networkId: pulumi.Input<string>;
    adapterType?: pulumi.Input<string>;
    macAddress?: pulumi.Input<string>;
    useStaticMac?: pulumi.Input<boolean>;
}

export interface VirtualMachineDisk {
    label: pulumi.Input<string>;
    /** GiB. */
    size?: pulumi.Input<number>;
    thinProvisioned?: pulumi.Input<boolean>;
    unitNumber?: pulumi.Input<number>;
    datastoreId?: pulumi.Input<string>;
}

export interface VirtualMachineClone {
    templateUuid: pulumi.Input<string>;
    linkedClone?: pulumi.Input<boolean>;
    timeout?: pulumi.Input<number>;
}

export interface VirtualMachineArgs {
    name?: pulumi.Input<string>;
    resourcePoolId: pulumi.Input<string>;
    datastoreId?: pulumi.Input<string>;
    datastoreClusterId?: pulumi.Input<string>;
    folder?: pulumi.Input<string>;
    hostSystemId?: pulumi.Input<string>;
    numCpus?: pulumi.Input<number>;
    /** MiB. */
    memory?: pulumi.Input<number>;
    guestId?: pulumi.Input<string>;
    firmware?: pulumi.Input<string>;
    scsiType?: pulumi.Input<string>;
    enableDiskUuid?: pulumi.Input<boolean>;
    /** Minutes; 0 disables. */
    waitForGuestNetTimeout?: pulumi.Input<number>;
    /** Minutes; 0 disables. */
    waitForGuestIpTimeout?: pulumi.Input<number>;
    extraConfig?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    clone?: pulumi.Input<VirtualMachineClone>;
    networkInterfaces?: pulumi.Input<pulumi.Input<VirtualMachineNetworkInterface>[]>;
    disks?: pulumi.Input<pulumi.Input<VirtualMachineDisk>[]>;
}

export class VirtualMachine extends pulumi.CustomResource {
    declare public readonly defaultIpAddress: pulumi.Output<string>;
    declare public readonly guestIpAddresses: pulumi.Output<string[]>;
    declare public readonly moid: pulumi.Output<string>;
    declare public readonly uuid: pulumi.Output<string>;
    declare public readonly powerState: pulumi.Output<string>;

    constructor(name: string, args: VirtualMachineArgs, opts?: pulumi.CustomResourceOptions) {
        const outputs = { defaultIpAddress: undefined, guestIpAddresses: undefined, moid: undefined, uuid: undefined, powerState: undefined };
        super("vsphere:index/virtualMachine:VirtualMachine", name, { ...args, ...outputs }, { version: VSPHERE_PLUGIN_VERSION, ...opts });
    }
}

export const getDatacenter = (args: { name?: string }, p?: pulumi.ProviderResource, parent?: pulumi.Resource) =>
    pulumi.runtime.invokeOutput<{ id: string }>("vsphere:index/getDatacenter:getDatacenter", args, invokeOpts(p, parent));

export const getComputeCluster = (args: { name: string; datacenterId?: pulumi.Input<string> }, p?: pulumi.ProviderResource, parent?: pulumi.Resource) =>
    pulumi.runtime.invokeOutput<{ id: string; resourcePoolId: string }>("vsphere:index/getComputeCluster:getComputeCluster", args, invokeOpts(p, parent));

export const getDatastore = (args: { name: string; datacenterId?: pulumi.Input<string> }, p?: pulumi.ProviderResource, parent?: pulumi.Resource) =>
    pulumi.runtime.invokeOutput<{ id: string }>("vsphere:index/getDatastore:getDatastore", args, invokeOpts(p, parent));

export const getNetwork = (args: { name: string; datacenterId?: pulumi.Input<string> }, p?: pulumi.ProviderResource, parent?: pulumi.Resource) =>
    pulumi.runtime.invokeOutput<{ id: string; type: string }>("vsphere:index/getNetwork:getNetwork", args, invokeOpts(p, parent));

export interface TemplateInfo {
    id: string;
    uuid: string;
    guestId: string;
    scsiType: string;
    firmware: string;
    disks: { label: string; size: number; thinProvisioned: boolean }[];
    networkInterfaceTypes: string[];
}

export const getVirtualMachine = (args: { name: string; datacenterId?: pulumi.Input<string> }, p?: pulumi.ProviderResource, parent?: pulumi.Resource) =>
    pulumi.runtime.invokeOutput<TemplateInfo>("vsphere:index/getVirtualMachine:getVirtualMachine", args, invokeOpts(p, parent));
