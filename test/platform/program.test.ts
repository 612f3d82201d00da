import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { recorder, valueOf } from "../support/mocks";
import { countsByType, runProgram } from "../support/program";

describe("program: every example stack under mocks", () => {
    it("local: two OpenStack servers on a created network, inventory with planned addresses", async () => {
        const out = await runProgram("local");
        const counts = countsByType();
        assert.strictEqual(counts["openstack:compute/instance:Instance"], 2);
        assert.strictEqual(counts["openstack:networking/port:Port"], 2);
        assert.strictEqual(counts["openstack:networking/network:Network"], 1);
        assert.strictEqual(counts["openstack:networking/subnet:Subnet"], 1);
        assert.strictEqual(counts["openstack:compute/serverGroup:ServerGroup"], 1);
        assert.strictEqual(counts["openstack:networking/secGroup:SecGroup"], 1);
        assert.deepStrictEqual(await valueOf(out.inventory), [
            { name: "local-cp-1", role: "control-plane", address: "10.42.0.16", backend: "openstack" },
            { name: "local-general-1", role: "worker", address: "10.42.0.32", backend: "openstack" },
        ]);
        assert.strictEqual(await valueOf(out.vip), "10.42.0.10");
    });

    it("dev: an existing network is looked up, not created; the key pair comes from the first SSH key", async () => {
        const out = await runProgram("dev");
        const counts = countsByType();
        assert.strictEqual(counts["openstack:compute/instance:Instance"], 3);
        assert.strictEqual(counts["openstack:networking/network:Network"], undefined);
        assert.strictEqual(counts["openstack:compute/keypair:Keypair"], 1);
        assert.deepStrictEqual(recorder.invokes.filter((i) => i.token.includes("getNetwork")).map((i) => i.inputs.name), ["dev-net"]);
        assert.strictEqual((await valueOf(out.inventory as pulumi.Output<unknown[]>)).length, 3);
    });

    it("qa: 3 control planes in the anti-affinity server group", async () => {
        await runProgram("qa");
        const hinted = recorder.ofType("openstack:compute/instance:Instance").filter((i) => i.inputs.schedulerHints?.[0]?.group === "qa-openstack-control-plane-id");
        assert.deepStrictEqual(hinted.map((i) => i.inputs.name), ["qa-cp-1", "qa-cp-2", "qa-cp-3"]);
    });

    it("prod: 11 servers, the ingress group's flavor falls back to the backend's, the control plane's is overridden", async () => {
        await runProgram("prod");
        const servers = recorder.ofType("openstack:compute/instance:Instance");
        assert.strictEqual(servers.length, 11);
        assert.deepStrictEqual([...new Set(servers.filter((s) => s.name.startsWith("prod-cp")).map((s) => s.inputs.flavorName))], ["m1.xlarge"]);
        assert.deepStrictEqual([...new Set(servers.filter((s) => !s.name.startsWith("prod-cp")).map((s) => s.inputs.flavorName))], ["m1.large"]);
        assert.ok(servers.every((s) => s.inputs.blockDevices?.[0]?.volumeSize === 80));
        assert.deepStrictEqual([...new Set(servers.map((s) => s.inputs.metadata["groundwork:environment"]))], ["prod"]);
    });

    it("customer-dc: vSphere VMs for control plane and registry, SSH bootstrap for bare metal, secrets kept secret", async () => {
        const out = await runProgram("customer-dc");
        const counts = countsByType();
        assert.strictEqual(counts["vsphere:index/virtualMachine:VirtualMachine"], 4);
        assert.strictEqual(counts["command:remote:Command"], 3);
        assert.strictEqual(counts["openstack:compute/instance:Instance"], undefined);
        const [provider] = recorder.ofType("pulumi:providers:vsphere");
        assert.deepStrictEqual(provider.secretInputs, ["password"]);
        assert.strictEqual(provider.inputs.password, "test-secret-for-groundwork:vspherePassword");
        for (const cmd of recorder.ofType("command:remote:Command")) {
            assert.strictEqual(cmd.inputs.connection.privateKey, "test-secret-for-groundwork:sshPrivateKey");
            assert.ok(cmd.secretInputs.some((p) => p.startsWith("connection")));
        }
        const inv = (await valueOf(out.inventory as pulumi.Output<{ name: string; address: string }[]>)).map((m) => `${m.name}=${m.address}`);
        assert.deepStrictEqual(inv, ["cdc-cp-1=172.16.8.16", "cdc-cp-2=172.16.8.17", "cdc-cp-3=172.16.8.18", "cdc-metal-01=172.16.8.101", "cdc-metal-02=172.16.8.102", "cdc-metal-03=172.16.8.103", "cdc-registry-1=172.16.8.24"]);
    });

    it("invalid config registers nothing and fails with a RunError naming the problems", async () => {
        await assert.rejects(
            runProgram("dev", (c) => {
                const p = JSON.parse(c["groundwork:platform"]);
                p.machines.controlPlane.count = 2;
                c["groundwork:platform"] = JSON.stringify(p);
            }),
            (e: Error) => e instanceof pulumi.RunError && /groundwork:platform has 1 problem; run `npx groundwork validate --stack test`/.test(e.message),
        );
        assert.strictEqual(recorder.registrations.length, 0);
    });
});
