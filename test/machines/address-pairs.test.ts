import * as assert from "assert";
import { recorder } from "../support/mocks";
import { runProgram } from "../support/program";

const PORT = "openstack:networking/port:Port";
const RELEASE = "kubernetes:helm.sh/v3:Release";

describe("OpenStack ports and the CNI under Neutron port security (issue 11, item 5)", () => {
    it("dev: the control-plane port allows the kube-vip VIP, worker ports allow nothing extra, port security stays on", async () => {
        await runProgram("dev");
        const ports = Object.fromEntries(recorder.ofType(PORT).map((p) => [p.name, p.inputs]));
        assert.deepStrictEqual(Object.keys(ports).sort(), ["dev-cp-1-port", "dev-general-1-port", "dev-general-2-port"]);
        assert.deepStrictEqual(ports["dev-cp-1-port"], {
            name: "dev-cp-1",
            networkId: "net-dev-net",
            fixedIps: [{ subnetId: "subnet-of-net-dev-net", ipAddress: "10.20.0.16" }],
            securityGroupIds: ["dev-openstack-secgroup-id"],
            adminStateUp: true,
            allowedAddressPairs: [{ ipAddress: "10.20.0.10" }],
        });
        assert.deepStrictEqual(ports["dev-general-1-port"], {
            name: "dev-general-1",
            networkId: "net-dev-net",
            fixedIps: [{ subnetId: "subnet-of-net-dev-net", ipAddress: "10.20.0.32" }],
            securityGroupIds: ["dev-openstack-secgroup-id"],
            adminStateUp: true,
        });
    });

    it("prod: each of the three control-plane ports allows the VIP 10.40.0.20, no worker port does", async () => {
        await runProgram("prod");
        const ports = recorder.ofType(PORT);
        const pairs = (prefix: string) => ports.filter((p) => p.name.startsWith(prefix)).map((p) => [p.name, p.inputs.allowedAddressPairs]);
        assert.deepStrictEqual(pairs("prod-cp-"), [1, 2, 3].map((i) => [`prod-cp-${i}-port`, [{ ipAddress: "10.40.0.20" }]]));
        assert.deepStrictEqual(pairs("prod-general-").concat(pairs("prod-ingress-")).filter(([, p]) => p !== undefined), []);
    });

    it("local (machines only, no kube-vip runs): no allowed address pairs", async () => {
        await runProgram("local");
        assert.deepStrictEqual(recorder.ofType(PORT).map((p) => p.inputs.allowedAddressPairs), [undefined, undefined]);
    });

    it("dev on OpenStack: Calico always encapsulates (VXLAN), so no pod address leaves a port", async () => {
        await runProgram("dev");
        const calico = recorder.ofType(RELEASE).find((r) => r.inputs.chart === "tigera-operator")!;
        assert.deepStrictEqual(calico.inputs.values.installation.calicoNetwork.ipPools, [{ cidr: "10.244.0.0/16", encapsulation: "VXLAN", natOutgoing: "Enabled", nodeSelector: "all()" }]);
    });

    it("prod with Cilium: tunnel routing over VXLAN (UDP 8472, open between nodes)", async () => {
        await runProgram("prod");
        const cilium = recorder.ofType(RELEASE).find((r) => r.inputs.chart === "cilium")!;
        assert.strictEqual(cilium.inputs.values.routingMode, "tunnel");
        assert.strictEqual(cilium.inputs.values.tunnelProtocol, "vxlan");
        const rules = recorder.ofType("openstack:networking/secGroupRule:SecGroupRule").map((r) => `${r.inputs.protocol}/${r.inputs.portRangeMin}`);
        assert.ok(rules.includes("udp/8472"));
    });

    it("dev with flannel: VXLAN on UDP 8472 (open between nodes), so the ports allow the VIP and no pod address", async () => {
        await runProgram("dev", (config) => {
            const platform = JSON.parse(config["groundwork:platform"]);
            platform.cluster.cni = { kind: "flannel" };
            config["groundwork:platform"] = JSON.stringify(platform);
        });
        const netConf = JSON.parse(recorder.ofType("kubernetes:core/v1:ConfigMap").find((c) => c.inputs.metadata.name === "kube-flannel-cfg")!.inputs.data["net-conf.json"]);
        assert.deepStrictEqual(netConf.Backend, { Type: "vxlan", VNI: 1, Port: 8472 });
        assert.deepStrictEqual(recorder.ofType(RELEASE).filter((r) => ["tigera-operator", "cilium"].includes(r.inputs.chart)), []);
        const pairs = Object.fromEntries(recorder.ofType(PORT).map((p) => [p.name, p.inputs.allowedAddressPairs]));
        assert.deepStrictEqual(pairs, { "dev-cp-1-port": [{ ipAddress: "10.20.0.10" }], "dev-general-1-port": undefined, "dev-general-2-port": undefined });
        const rules = recorder.ofType("openstack:networking/secGroupRule:SecGroupRule").map((r) => `${r.inputs.protocol}/${r.inputs.portRangeMin} ${r.inputs.remoteIpPrefix}`);
        assert.ok(rules.includes("udp/8472 10.20.0.0/24"), rules.join("\n"));
    });

    it("customer-dc (vSphere + bare metal, no OpenStack): Calico keeps VXLAN across subnets only", async () => {
        await runProgram("customer-dc");
        const calico = recorder.ofType(RELEASE).find((r) => r.inputs.chart === "tigera-operator")!;
        assert.strictEqual(calico.inputs.values.installation.calicoNetwork.ipPools[0].encapsulation, "VXLANCrossSubnet");
    });
});
