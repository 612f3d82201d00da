import * as openstack from "@pulumi/openstack";
import * as pulumi from "@pulumi/pulumi";
import { OpenStackBackendConfig } from "./config";
import { ingressRules, PortRule } from "./firewall";
import { Bootstrap, Machine, machineOf, MachineSpec, SubnetInfo } from "./machine";

export interface OpenStackFoundationArgs {
    /** backends.openstack from the stack config. */
    backend: OpenStackBackendConfig;
    /** The node subnet from the IP plan. */
    subnet: SubnetInfo;
    /** Ports the layers above need (see platformPorts). */
    ports: PortRule[];
    /** Public keys; the first becomes the key pair when backend.keyPair is not set. Defaults to none. */
    sshAuthorizedKeys?: string[];
    /** Create the control-plane server group. Defaults to true. */
    controlPlaneGroup?: boolean;
    /** Environment marker put on every server's metadata (read by the policy pack). Defaults to none. */
    environment?: string;
    /**
     * Addresses control-plane ports may also send and receive from (Neutron allowed address
     * pairs): the kube-vip VIP, which moves between control planes. Port security stays on and
     * drops everything else not on the port's fixed IP. Defaults to none.
     */
    controlPlaneAddressPairs?: string[];
}

/**
 * What every OpenStack machine of a platform shares: the network and subnet (found or created),
 * one security group, the key pair and the control-plane server group.
 */
export class OpenStackFoundation extends pulumi.ComponentResource {
    public readonly networkId: pulumi.Output<string>;
    public readonly subnetId: pulumi.Output<string>;
    public readonly securityGroupId: pulumi.Output<string>;
    public readonly serverGroupId?: pulumi.Output<string>;
    public readonly keyPairName?: pulumi.Output<string>;
    public readonly backend: OpenStackBackendConfig;
    public readonly environment?: string;
    public readonly controlPlaneAddressPairs: string[];

    constructor(name: string, args: OpenStackFoundationArgs, opts?: pulumi.ComponentResourceOptions) {
        super("groundwork:machines:OpenStackFoundation", name, {}, opts);
        const b = args.backend;
        this.backend = b;
        this.environment = args.environment;
        this.controlPlaneAddressPairs = [...(args.controlPlaneAddressPairs ?? [])];
        const child = { parent: this };
        if (b.network.create) {
            const net = new openstack.networking.Network(`${name}-network`, { name: b.network.name, adminStateUp: true }, child);
            const subnet = new openstack.networking.Subnet(
                `${name}-subnet`,
                {
                    name: b.network.subnetName ?? `${b.network.name}-subnet`,
                    networkId: net.id,
                    cidr: args.subnet.cidr,
                    ipVersion: 4,
                    gatewayIp: args.subnet.gateway,
                    dnsNameservers: args.subnet.dns,
                    enableDhcp: true,
                },
                child,
            );
            this.networkId = net.id;
            this.subnetId = subnet.id;
        } else {
            const net = openstack.networking.getNetworkOutput({ name: b.network.name }, child);
            this.networkId = net.id;
            this.subnetId = openstack.networking.getSubnetOutput({ networkId: net.id, cidr: args.subnet.cidr, ...(b.network.subnetName ? { name: b.network.subnetName } : {}) }, child).id;
        }

        const sg = new openstack.networking.SecGroup(`${name}-secgroup`, { name: `${name}-nodes`, description: "groundwork nodes: only what the layers above need", deleteDefaultRules: false }, child);
        ingressRules(args.ports, args.subnet.cidr, b.adminCidrs).forEach((r, i) => {
            new openstack.networking.SecGroupRule(
                `${name}-rule-${i}`,
                { securityGroupId: sg.id, direction: "ingress", ethertype: "IPv4", protocol: r.protocol, portRangeMin: r.portRangeMin, portRangeMax: r.portRangeMax, remoteIpPrefix: r.remoteIpPrefix, description: r.description },
                child,
            );
        });
        this.securityGroupId = sg.id;

        if (args.controlPlaneGroup ?? true) {
            this.serverGroupId = new openstack.compute.ServerGroup(`${name}-control-plane`, { name: `${name}-control-plane`, policies: [b.serverGroupPolicy] }, child).id;
        }
        if (b.keyPair !== undefined) {
            this.keyPairName = pulumi.output(b.keyPair);
        } else if ((args.sshAuthorizedKeys ?? []).length > 0) {
            this.keyPairName = new openstack.compute.Keypair(`${name}-keypair`, { name: `${name}-keypair`, publicKey: args.sshAuthorizedKeys![0] }, child).name;
        }
        this.registerOutputs({ networkId: this.networkId, subnetId: this.subnetId, securityGroupId: this.securityGroupId, serverGroupId: this.serverGroupId });
    }
}

export interface OpenStackMachineArgs {
    spec: MachineSpec;
    foundation: OpenStackFoundation;
    bootstrap: Bootstrap;
    sshUser: string;
    /**
     * User-data is the first boot only (machines.onChange: converge): its later changes never
     * replace the server; they reach it over SSH (the platform's Convergence). Defaults to false:
     * a changed user-data replaces the server (machines.onChange: replace).
     */
    firstBootOnly?: boolean;
}

/** One OpenStack server on a port holding the plan's fixed IP. */
export class OpenStackMachine extends pulumi.ComponentResource {
    public readonly machine: Machine;
    public readonly serverId: pulumi.Output<string>;

    constructor(name: string, args: OpenStackMachineArgs, opts?: pulumi.ComponentResourceOptions) {
        super("groundwork:machines:OpenStackMachine", name, {}, opts);
        const { spec, foundation: f } = args;
        const b = f.backend;
        const child = { parent: this };
        const pairs = spec.role === "control-plane" ? f.controlPlaneAddressPairs : [];
        const port = new openstack.networking.Port(
            `${name}-port`,
            {
                name: spec.name,
                networkId: f.networkId,
                fixedIps: [{ subnetId: f.subnetId, ipAddress: spec.address }],
                securityGroupIds: [f.securityGroupId],
                adminStateUp: true,
                // Port security drops any address not on the port; the VIP kube-vip moves here is allowed by name.
                ...(pairs.length > 0 ? { allowedAddressPairs: pairs.map((ipAddress) => ({ ipAddress })) } : {}),
            },
            child,
        );
        const controlPlane = spec.role === "control-plane" && f.serverGroupId !== undefined;
        const server = new openstack.compute.Instance(
            `${name}-server`,
            {
                name: spec.name,
                flavorName: spec.flavor ?? b.flavor,
                ...(b.bootVolumeGiB === undefined
                    ? { imageName: b.image }
                    : { blockDevices: [{ uuid: openstack.images.getImageOutput({ name: b.image, mostRecent: true }, child).id, sourceType: "image", destinationType: "volume", volumeSize: b.bootVolumeGiB, bootIndex: 0, deleteOnTermination: true }] }),
                keyPair: f.keyPairName,
                availabilityZone: b.availabilityZone,
                userData: args.bootstrap.userData,
                networks: [{ port: port.id }],
                schedulerHints: controlPlane ? [{ group: f.serverGroupId! }] : undefined,
                // Nova allows only [a-zA-Z0-9-_:. ] in metadata keys: no "/".
                metadata: {
                    "groundwork:role": spec.role,
                    "groundwork:group": spec.group,
                    "groundwork:address": spec.address,
                    ...(f.environment ? { "groundwork:environment": f.environment } : {}),
                },
            },
            // Converged machines: user-data is the first boot only; a change never replaces the server.
            // A replacement (a new image, key pair, …) deletes the old server first: the new one takes the
            // same port and node name, and the node's leave (drain, Node and etcd member removed) runs before.
            { ...child, deleteBeforeReplace: true, ...(args.firstBootOnly ? { ignoreChanges: ["userData"] } : {}) },
        );
        this.serverId = server.id;
        this.machine = machineOf(spec, args.sshUser, server, server.id);
        this.registerOutputs({ serverId: server.id });
    }
}
