import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { execFileSync } from "child_process";
import { BareMetalMachine } from "../../components/machines/baremetal";
import { CONVERGE_COMMAND } from "../../components/machines/converge";
import { ingressRules, platformPorts } from "../../components/machines/firewall";
import { MachineSpec, SubnetInfo } from "../../components/machines/machine";
import { OpenStackFoundation, OpenStackMachine } from "../../components/machines/openstack";
import { MachinePool } from "../../components/machines/pool";
import { VsphereFoundation, VsphereMachine } from "../../components/machines/vsphere";
import { recorder, settle, valueOf } from "../support/mocks";
import { captureGraph, graph, resetGraph } from "../cluster/graph";

const subnet: SubnetInfo = { cidr: "10.20.0.0/24", prefix: 24, gateway: "10.20.0.1", dns: ["10.20.0.2"] };
const spec = (over: Partial<MachineSpec> = {}): MachineSpec => ({
    name: "dev-cp-1", role: "control-plane", group: "controlPlane", ordinal: 1, backend: "openstack", address: "10.20.0.16", labels: {}, taints: [], ...over,
});
const openstackBackend = {
    network: { name: "dev-net", create: false },
    flavor: "m1.medium",
    image: "debian-12",
    adminCidrs: ["10.1.0.0/16"],
    serverGroupPolicy: "anti-affinity" as const,
};
const bootstrap = { userData: "#cloud-config\nhostname: x\n", script: "#!/bin/bash\necho hi\n" };
const sha256sum = (text: string) => execFileSync("sha256sum", { input: text }).toString().split(" ")[0];

describe("machines: OpenStack backend", () => {
    it("puts the plan's fixed IP on a port in the security group, and the server in the anti-affinity group", async () => {
        const f = new OpenStackFoundation("dev-os", { backend: openstackBackend, subnet, ports: platformPorts("calico", 5000), sshAuthorizedKeys: ["ssh-ed25519 AAAA k"] });
        const m = new OpenStackMachine("dev-cp-1", { spec: spec(), foundation: f, bootstrap, sshUser: "groundwork" });
        await valueOf(m.serverId);
        await settle();
        const [port] = recorder.ofType("openstack:networking/port:Port");
        assert.deepStrictEqual(port.inputs.fixedIps, [{ subnetId: "subnet-of-net-dev-net", ipAddress: "10.20.0.16" }]);
        assert.deepStrictEqual(port.inputs.securityGroupIds, ["dev-os-secgroup-id"]);
        const [group] = recorder.ofType("openstack:compute/serverGroup:ServerGroup");
        assert.deepStrictEqual(group.inputs.policies, ["anti-affinity"]);
        const [server] = recorder.ofType("openstack:compute/instance:Instance");
        assert.deepStrictEqual(server.inputs.schedulerHints, [{ group: "dev-os-control-plane-id" }]);
        assert.deepStrictEqual(server.inputs.networks, [{ port: "dev-cp-1-port-id" }]);
        assert.strictEqual(server.inputs.userData, bootstrap.userData);
        assert.strictEqual(server.inputs.flavorName, "m1.medium");
        assert.strictEqual(server.inputs.imageName, "debian-12");
        assert.strictEqual(server.inputs.keyPair, "dev-os-keypair");
        assert.deepStrictEqual(recorder.invokes.map((i) => i.token).sort(), ["openstack:networking/getNetwork:getNetwork", "openstack:networking/getSubnet:getSubnet"]);
        assert.strictEqual(await valueOf(server.inputs && m.machine.address), "10.20.0.16");
    });

    it("opens only the needed ports: node subnet for all, admin CIDRs for SSH and 6443, never 0.0.0.0/0", async () => {
        new OpenStackFoundation("dev-os", { backend: openstackBackend, subnet, ports: platformPorts("calico", 5000) });
        await settle();
        const rules = recorder.ofType("openstack:networking/secGroupRule:SecGroupRule").map((r) => `${r.inputs.protocol}/${r.inputs.portRangeMin}-${r.inputs.portRangeMax} from ${r.inputs.remoteIpPrefix}`);
        assert.deepStrictEqual(rules, [
            "tcp/22-22 from 10.20.0.0/24",
            "tcp/22-22 from 10.1.0.0/16",
            "tcp/6443-6443 from 10.20.0.0/24",
            "tcp/6443-6443 from 10.1.0.0/16",
            "tcp/2379-2380 from 10.20.0.0/24",
            "tcp/10250-10250 from 10.20.0.0/24",
            "tcp/179-179 from 10.20.0.0/24",
            "udp/4789-4789 from 10.20.0.0/24",
            "tcp/5473-5473 from 10.20.0.0/24",
            "tcp/5000-5000 from 10.20.0.0/24",
        ]);
    });

    it("creates the network and subnet when asked, and boots from a volume of the configured size", async () => {
        const f = new OpenStackFoundation("lab", { backend: { ...openstackBackend, network: { name: "lab-net", create: true }, bootVolumeGiB: 40 }, subnet, ports: [] });
        const m = new OpenStackMachine("lab-w-1", { spec: spec({ role: "worker", name: "lab-w-1" }), foundation: f, bootstrap, sshUser: "u" });
        await valueOf(m.serverId);
        await settle();
        const [sn] = recorder.ofType("openstack:networking/subnet:Subnet");
        assert.deepStrictEqual([sn.inputs.cidr, sn.inputs.gatewayIp, sn.inputs.dnsNameservers], ["10.20.0.0/24", "10.20.0.1", ["10.20.0.2"]]);
        const [server] = recorder.ofType("openstack:compute/instance:Instance");
        assert.strictEqual(server.inputs.schedulerHints, undefined, "workers are not in the control-plane group");
        assert.strictEqual(server.inputs.imageName, undefined);
        assert.deepStrictEqual(server.inputs.blockDevices[0], { uuid: "image-debian-12", sourceType: "image", destinationType: "volume", volumeSize: 40, bootIndex: 0, deleteOnTermination: true });
    });

    it("allows 0.0.0.0/0 only when an admin CIDR says so", () => {
        const wide = ingressRules(platformPorts("cilium"), "10.0.0.0/24", ["0.0.0.0/0"]).filter((r) => r.remoteIpPrefix === "0.0.0.0/0").map((r) => r.portRangeMin);
        assert.deepStrictEqual(wide, [22, 6443]);
        assert.strictEqual(ingressRules(platformPorts("cilium"), "10.0.0.0/24", []).some((r) => r.remoteIpPrefix === "0.0.0.0/0"), false);
    });
});

const vsphereBackend = {
    server: "vc.example", user: "svc", allowUnverifiedSsl: false, datacenter: "DC1", computeCluster: "C1", datastore: "ds1", network: "VM-Net",
    folder: "gw", template: "debian-12-tpl", cpus: 2, memoryMiB: 4096, diskGiB: 40, linkedClone: false, waitForGuestNetTimeout: 5, waitForGuestIpTimeout: 0,
};

describe("machines: user-data is the first boot only (machines.onChange: converge)", () => {
    before(() => captureGraph());
    beforeEach(() => resetGraph());

    it("OpenStack: the server ignores later user-data changes; nothing else is created for it", async () => {
        const f = new OpenStackFoundation("dev-os", { backend: openstackBackend, subnet, ports: platformPorts("calico", 5000) });
        const m = new OpenStackMachine("dev-cp-1", { spec: spec(), foundation: f, bootstrap, sshUser: "groundwork", firstBootOnly: true });
        await valueOf(m.serverId);
        await settle();
        const server = graph().find((n) => n.type === "openstack:compute/instance:Instance")!;
        assert.deepStrictEqual(server.ignoreChanges, ["userData"]);
        assert.deepStrictEqual(recorder.ofType("command:remote:Command"), []);
    });

    it("OpenStack with machines.onChange: replace: user-data changes are not ignored (a change replaces the server)", async () => {
        const f = new OpenStackFoundation("dev-os", { backend: openstackBackend, subnet, ports: platformPorts("calico", 5000) });
        const m = new OpenStackMachine("dev-cp-1", { spec: spec(), foundation: f, bootstrap, sshUser: "groundwork" });
        await valueOf(m.serverId);
        await settle();
        assert.deepStrictEqual(graph().find((n) => n.type === "openstack:compute/instance:Instance")!.ignoreChanges, []);
    });

    it("vSphere: the VM ignores changes of its guestinfo user-data only", async () => {
        const f = new VsphereFoundation("cdc-vs", { backend: vsphereBackend, password: pulumi.secret("pw") });
        const m = new VsphereMachine("cdc-cp-1", { spec: spec({ backend: "vsphere", name: "cdc-cp-1" }), foundation: f, subnet, bootstrap, sshUser: "groundwork", firstBootOnly: true });
        await valueOf(m.vm.moid);
        await settle();
        const vm = graph().find((n) => n.type === "vsphere:index/virtualMachine:VirtualMachine")!;
        assert.deepStrictEqual(vm.ignoreChanges, ['extraConfig["guestinfo.userdata"]']);
    });

    it("bare metal: the first bootstrap run ignores later script changes (stdin, environment), like user-data", async () => {
        new BareMetalMachine("cdc-metal-01", { spec: spec({ backend: "baremetal", role: "worker", name: "cdc-metal-01", address: "172.16.8.101" }), backend: { sshUser: "root", sshPort: 22, onDestroy: "keep" }, privateKey: "k", bootstrap, sshUser: "groundwork" });
        await settle();
        await new Promise((r) => setTimeout(r, 10));
        assert.deepStrictEqual(graph().find((n) => n.name === "cdc-metal-01-bootstrap")!.ignoreChanges, ["stdin", "environment"]);
    });
});

describe("machines: vSphere backend", () => {
    it("clones the template with guestinfo user-data and metadata that carry the plan's static IP", async () => {
        const f = new VsphereFoundation("cdc-vs", { backend: vsphereBackend, password: pulumi.secret("pw"), environment: "customer" });
        const m = new VsphereMachine("cdc-cp-1", { spec: spec({ backend: "vsphere", name: "cdc-cp-1", cpus: 4 }), foundation: f, subnet, bootstrap, sshUser: "groundwork" });
        await valueOf(m.vm.moid);
        await settle();
        const [vm] = recorder.ofType("vsphere:index/virtualMachine:VirtualMachine");
        const x = vm.inputs.extraConfig;
        assert.deepStrictEqual(Object.keys(x).sort(), [
            "guestinfo.groundwork.environment",
            "guestinfo.groundwork.role",
            "guestinfo.metadata",
            "guestinfo.metadata.encoding",
            "guestinfo.userdata",
            "guestinfo.userdata.encoding",
        ]);
        assert.deepStrictEqual([x["guestinfo.groundwork.role"], x["guestinfo.groundwork.environment"]], ["control-plane", "customer"]);
        assert.strictEqual(Buffer.from(x["guestinfo.userdata"], "base64").toString(), bootstrap.userData);
        assert.strictEqual(x["guestinfo.userdata.encoding"], "base64");
        const meta = parse(Buffer.from(x["guestinfo.metadata"], "base64").toString());
        assert.deepStrictEqual(meta.network.ethernets.eth0.addresses, ["10.20.0.16/24"]);
        assert.deepStrictEqual(meta.network.ethernets.eth0.routes, [{ to: "default", via: "10.20.0.1" }]);
        assert.strictEqual(meta["local-hostname"], "cdc-cp-1");
        assert.deepStrictEqual([vm.inputs.resourcePoolId, vm.inputs.datastoreId, vm.inputs.folder, vm.inputs.numCpus, vm.inputs.memory], ["resgroup-C1", "datastore-ds1", "gw", 4, 4096]);
        assert.deepStrictEqual(vm.inputs.clone, { templateUuid: "uuid-debian-12-tpl", linkedClone: false });
        assert.deepStrictEqual(vm.inputs.networkInterfaces, [{ networkId: "network-VM-Net", adapterType: "vmxnet3" }]);
        assert.deepStrictEqual([vm.inputs.waitForGuestNetTimeout, vm.inputs.waitForGuestIpTimeout], [5, 0]);
        const [provider] = recorder.ofType("pulumi:providers:vsphere");
        assert.deepStrictEqual(provider.secretInputs, ["password"]);
        assert.strictEqual(provider.inputs.password, "pw");
    });

    it("keeps user-data secret in guestinfo when the bootstrap is secret", async () => {
        const f = new VsphereFoundation("s", { backend: vsphereBackend, password: pulumi.secret("pw") });
        new VsphereMachine("s-1", { spec: spec({ backend: "vsphere" }), foundation: f, subnet, bootstrap: { userData: pulumi.secret("#cloud-config\n"), script: "" }, sshUser: "u" });
        await settle();
        await new Promise((r) => setTimeout(r, 10));
        const [vm] = recorder.ofType("vsphere:index/virtualMachine:VirtualMachine");
        assert.ok(vm.secretInputs.some((p) => p.startsWith("extraConfig")), JSON.stringify(vm.secretInputs));
    });
});

describe("machines: bare-metal backend", () => {
    it("creates nothing but an SSH command carrying the same script, with the key as a secret", async () => {
        const m = new BareMetalMachine("cdc-metal-01", {
            spec: spec({ backend: "baremetal", role: "worker", name: "cdc-metal-01", address: "172.16.8.101", bmc: { address: "172.16.9.101", kind: "redfish" } }),
            backend: { sshUser: "root", sshPort: 22, onDestroy: "reset" },
            privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----x",
            bootstrap,
            sshUser: "groundwork",
        });
        assert.strictEqual(await pulumi.isSecret(m.bootstrapRun.connection), true);
        await settle();
        assert.deepStrictEqual([...new Set(recorder.registrations.map((r) => r.type))].sort(), ["command:remote:Command", "groundwork:machines:BareMetalMachine"]);
        const [cmd] = recorder.ofType("command:remote:Command");
        assert.strictEqual(cmd.inputs.stdin, bootstrap.script);
        // Converged in place: the same converge command creates and updates; no trigger replaces it.
        assert.deepStrictEqual([cmd.inputs.create, cmd.inputs.update, cmd.inputs.triggers], [CONVERGE_COMMAND, CONVERGE_COMMAND, undefined]);
        assert.deepStrictEqual(cmd.inputs.environment, { GROUNDWORK_BOOTSTRAP: sha256sum(bootstrap.script).slice(0, 12) });
        assert.deepStrictEqual([cmd.inputs.connection.host, cmd.inputs.connection.user], ["172.16.8.101", "root"]);
        assert.ok(cmd.secretInputs.some((p) => p.startsWith("connection")), JSON.stringify(cmd.secretInputs));
    });

    it("with a reset script: a second command that only runs it on delete (create and update do nothing), never replaced by a new bootstrap", async () => {
        const reset = "#!/bin/bash\nkubeadm reset --force\n";
        const m = new BareMetalMachine("cdc-metal-02", {
            spec: spec({ backend: "baremetal", role: "worker", name: "cdc-metal-02", address: "172.16.8.102" }),
            backend: { sshUser: "groundwork", sshPort: 2222, onDestroy: "reset" },
            privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----x",
            bootstrap: { ...bootstrap, reset },
            sshUser: "groundwork",
        });
        await settle();
        const cmds = recorder.ofType("command:remote:Command");
        assert.deepStrictEqual(cmds.map((c) => c.name).sort(), ["cdc-metal-02-bootstrap", "cdc-metal-02-reset"]);
        const r = cmds.find((c) => c.name === "cdc-metal-02-reset")!;
        assert.deepStrictEqual([r.inputs.create, r.inputs.update, r.inputs.triggers, r.inputs.stdin], ["true", "true", undefined, undefined]);
        // The script itself, run as root (bash -c, no stdin), by bash from the delete command.
        assert.strictEqual(r.inputs.delete, `if [ "$(id -u)" -eq 0 ]; then bash -c '#!/bin/bash\nkubeadm reset --force\n'; else sudo -n bash -c '#!/bin/bash\nkubeadm reset --force\n'; fi`);
        assert.deepStrictEqual([r.inputs.connection.host, r.inputs.connection.port, r.inputs.connection.user], ["172.16.8.102", 2222, "groundwork"]);
        // What the layers above depend on: destroy deletes them before the reset runs.
        assert.strictEqual(m.machine.resource, m.resetOnDestroy);
        // Without a reset script (onDestroy: keep renders none) there is no second command.
        recorder.reset();
        new BareMetalMachine("cdc-metal-03", { spec: spec({ backend: "baremetal", role: "worker", name: "cdc-metal-03", address: "172.16.8.103" }), backend: { sshUser: "root", sshPort: 22, onDestroy: "keep" }, privateKey: "k", bootstrap, sshUser: "groundwork" });
        await settle();
        assert.deepStrictEqual(recorder.ofType("command:remote:Command").map((c) => c.name), ["cdc-metal-03-bootstrap"]);
    });
});

describe("machines: pool", () => {
    it("makes one machine per spec on its backend, each a child of the pool (URN parentage)", async () => {
        const f = new OpenStackFoundation("dev-os", { backend: openstackBackend, subnet, ports: [] });
        const specs = [1, 2, 4].map((o) => spec({ role: "worker", group: "general", ordinal: o, name: `dev-general-${o}`, address: `10.20.0.${31 + o}` }));
        const seen: string[] = [];
        const pool = new MachinePool("dev-general", { specs, bootstrap: (s) => (seen.push(s.name), bootstrap), sshUser: "groundwork", subnet, backends: { openstack: f } });
        assert.deepStrictEqual(pool.machines.map((m) => [m.name, m.address, m.role, m.backend]), [
            ["dev-general-1", "10.20.0.32", "worker", "openstack"],
            ["dev-general-2", "10.20.0.33", "worker", "openstack"],
            ["dev-general-4", "10.20.0.35", "worker", "openstack"],
        ]);
        assert.deepStrictEqual(seen, ["dev-general-1", "dev-general-2", "dev-general-4"]);
        // Mock URNs carry the immediate parent's type: the server is the machine's child…
        assert.strictEqual(await valueOf(pool.machines[2].resource.urn), "urn:pulumi:test::groundwork::groundwork:machines:OpenStackMachine$openstack:compute/instance:Instance::dev-general-4-server");
        // …and each machine component is the pool's child.
        const children = (pool as unknown as { __childResources?: Set<pulumi.Resource> }).__childResources ?? new Set();
        const urns = await Promise.all([...children].map((c) => valueOf(c.urn)));
        assert.deepStrictEqual(urns.sort(), [1, 2, 4].map((o) => `urn:pulumi:test::groundwork::groundwork:machines:Pool$groundwork:machines:OpenStackMachine::dev-general-${o}`));
    });

    it("fails clearly when a backend's foundation is missing", () => {
        assert.throws(
            () => new MachinePool("p", { specs: [spec({ backend: "vsphere" })], bootstrap: () => bootstrap, sshUser: "u", subnet, backends: {} }),
            /machines of backend vsphere need backends.vsphere in the stack config/,
        );
    });
});
