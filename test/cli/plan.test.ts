import * as assert from "assert";
import * as fs from "fs";
import { parse } from "yaml";
import { stackFilePath } from "../../cli/stackfile";
import { runCli, writeStackFile } from "../support/cli";

/** Table rows as cells (columns are separated by two or more blanks). */
const rows = (text: string) => text.split("\n").map((l) => l.split(/ {2,}/));
const row = (text: string, first: string) => rows(text).find((r) => r[0] === first);

describe("cli: groundwork plan", () => {
    it("honours upTo: machines — no cluster, add-ons or Harbor in the layers (text and JSON)", async () => {
        const r = await runCli(["plan", "--stack", "local"]);
        assert.strictEqual(r.code, 0, r.stderr);
        const layers = r.stdout.slice(r.stdout.indexOf("layers come up in this order:")).split("\n");
        assert.deepStrictEqual(layers, [
            "layers come up in this order:",
            "  1. network: IP plan 10.42.0.0/24, VIP 10.42.0.10",
            "  2. machines: 2 on openstack (2 created, 0 existing)",
            "  3. engine: containerd from the distribution",
            "  stops here (upTo: machines): no cluster, add-ons or Harbor",
            "",
        ]);
        assert.doesNotMatch(r.stdout, /etcd snapshots/);
        const json = JSON.parse((await runCli(["plan", "--stack", "local", "--json"])).stdout);
        assert.strictEqual(json.upTo, "machines");
        assert.strictEqual(json.layers.length, 3);
        assert.strictEqual(json.etcdSnapshots, undefined);
    });

    it("shows pools, reserved ranges and the MetalLB pool with their sizes", async () => {
        const r = await runCli(["plan", "--stack", "customer-dc"]);
        assert.strictEqual(r.code, 0, r.stderr);
        assert.deepStrictEqual(row(r.stdout, "pool control"), ["pool control", "172.16.8.16-172.16.8.23 (8 addresses)"]);
        assert.deepStrictEqual(row(r.stdout, "pool registry"), ["pool registry", "172.16.8.24-172.16.8.27 (4 addresses)"]);
        assert.deepStrictEqual(row(r.stdout, "reserved"), ["reserved", "172.16.8.2-172.16.8.9 (8 addresses)"]);
        assert.deepStrictEqual(row(r.stdout, "load balancers (MetalLB)"), ["load balancers (MetalLB)", "172.16.8.200-172.16.8.220 (21 addresses)"]);
    });

    it("shows existing bare-metal hosts as existing and VMs as created, with labels", async () => {
        const r = await runCli(["plan", "--stack", "customer-dc"]);
        assert.deepStrictEqual(row(r.stdout, "cdc-metal-02"), ["cdc-metal-02", "worker", "baremetal", "172.16.8.102", "existing", "node.groundwork.io/hardware=metal", "-"]);
        assert.deepStrictEqual(row(r.stdout, "cdc-cp-1"), ["cdc-cp-1", "control-plane", "vsphere", "172.16.8.16", "create", "-", "-"]);
        assert.ok(r.stdout.includes("  2. machines: 7 on baremetal, vsphere (4 created, 3 existing)\n"));
        const json = JSON.parse((await runCli(["plan", "--stack", "customer-dc", "--json"])).stdout);
        assert.deepStrictEqual(json.machines.filter((m: any) => m.action === "existing").map((m: any) => m.name), ["cdc-metal-01", "cdc-metal-02", "cdc-metal-03"]);
    });

    it("shows the registry endpoint, taints and the etcd snapshot schedule", async () => {
        const cdc = await runCli(["plan", "--stack", "customer-dc"]);
        assert.ok(cdc.stdout.split("\n").includes("registry: standalone at registry.cdc.customer.example:5000, air-gapped: nodes pull only through it"), cdc.stdout);
        assert.ok(cdc.stdout.split("\n").includes('etcd snapshots: schedule "0 */6 * * *", keep 7, to hostPath /var/backups/etcd'), cdc.stdout);
        const prod = await runCli(["plan", "--stack", "prod"]);
        assert.deepStrictEqual(row(prod.stdout, "prod-ingress-1")!.slice(4), ["create", "node.groundwork.io/tier=ingress", "node.groundwork.io/ingress=true:NoSchedule"]);
        assert.ok(prod.stdout.split("\n").includes('etcd snapshots: schedule "0 */2 * * *", keep 24, to s3 https://s3.prod.example/etcd-snapshots'), prod.stdout);
        assert.ok(prod.stdout.split("\n").includes("registry: harbor at harbor.prod.example"), prod.stdout);
    });

    it("Harbor is shown as not built when upTo stops at the machines", async () => {
        const config = parse(fs.readFileSync(stackFilePath("prod"), "utf8")).config;
        config["groundwork:platform"].upTo = "machines";
        const r = await runCli(["plan", "--stack-file", writeStackFile(config)]);
        assert.strictEqual(r.code, 0, r.stderr);
        assert.ok(r.stdout.split("\n").includes("registry: harbor, not built (upTo: machines)"), r.stdout);
        assert.doesNotMatch(r.stdout, /Harbor on the cluster|etcd snapshots/);
    });
});
