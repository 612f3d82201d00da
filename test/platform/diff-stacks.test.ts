import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { diffConfigs, flatten, run } from "../../cli/commands/diff-stacks";
import { main } from "../../cli/main";

/** Runs a CLI function with stdout and stderr captured. */
async function capture(fn: () => Promise<number>): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const orig = { out: process.stdout.write, err: process.stderr.write };
    process.stdout.write = ((s: string) => (out.push(String(s)), true)) as typeof process.stdout.write;
    process.stderr.write = ((s: string) => (err.push(String(s)), true)) as typeof process.stderr.write;
    try {
        const code = await fn();
        return { code, out: out.join(""), err: err.join("") };
    } finally {
        process.stdout.write = orig.out;
        process.stderr.write = orig.err;
    }
}

/** Table rows of the text output as [key, a, b], split on the column gaps. */
function rows(out: string): Map<string, [string, string]> {
    const lines = out.split("\n");
    const start = lines.findIndex((l) => l.startsWith("KEY "));
    const m = new Map<string, [string, string]>();
    for (const l of lines.slice(start + 1)) {
        if (l === "") break;
        const [k, a, b] = l.split(/\s{2,}/);
        m.set(k, [a, b]);
    }
    return m;
}

const DEV_PROD_KEYS = [
    "apps.ingressClass",
    "apps.profile",
    "apps.storageClass",
    "apps.workloads.analytics.cpuMillis",
    "apps.workloads.analytics.memoryMiB",
    "apps.workloads.analytics.storageGiB",
    "apps.workloads.api.cpuMillis",
    "apps.workloads.api.ingressHost",
    "apps.workloads.api.memoryMiB",
    "apps.workloads.api.replicas",
    "apps.workloads.events.cpuMillis",
    "apps.workloads.events.memoryMiB",
    "apps.workloads.events.replicas",
    "apps.workloads.events.storageGiB",
    "apps.workloads.site.cpuMillis",
    "apps.workloads.site.ingressHost",
    "apps.workloads.site.memoryMiB",
    "apps.workloads.site.replicas",
    "apps.workloads.users.cpuMillis",
    "apps.workloads.users.memoryMiB",
    "apps.workloads.users.storageGiB",
    "backends.openstack.adminCidrs",
    "backends.openstack.authUrl",
    "backends.openstack.bootVolumeGiB",
    "backends.openstack.flavor",
    "backends.openstack.network.name",
    "backends.openstack.region",
    "cluster.addons.etcdSnapshots.retention",
    "cluster.addons.etcdSnapshots.schedule",
    "cluster.addons.etcdSnapshots.target.bucket",
    "cluster.addons.etcdSnapshots.target.endpoint",
    "cluster.addons.etcdSnapshots.target.insecure",
    "cluster.addons.etcdSnapshots.target.kind",
    "cluster.addons.etcdSnapshots.target.path",
    "cluster.addons.etcdSnapshots.target.region",
    "cluster.chartRepository",
    "cluster.cni.kind",
    "cluster.packageSource.kind",
    "cluster.packageSource.url",
    "engine.mirrors[0].endpoints",
    "engine.mirrors[0].host",
    "engine.packageSource.kind",
    "engine.packageSource.url",
    "engine.proxy.http",
    "engine.proxy.https",
    "engine.proxy.noProxy",
    "environment",
    "machines.controlPlane.count",
    "machines.controlPlane.flavor",
    "machines.sshAuthorizedKeys",
    "machines.workers.general.count",
    'machines.workers.general.labels["node.groundwork.io/tier"]',
    "machines.workers.ingress.backend",
    "machines.workers.ingress.count",
    'machines.workers.ingress.labels["node.groundwork.io/tier"]',
    "machines.workers.ingress.pool",
    "machines.workers.ingress.taints[0].effect",
    "machines.workers.ingress.taints[0].key",
    "machines.workers.ingress.taints[0].value",
    "name",
    "network.cidr",
    "network.dns",
    "network.gateway",
    "network.loadBalancerPool",
    "network.pools.control",
    "network.pools.ingress",
    "network.pools.workers",
    "network.reserved",
    "network.vip",
    "registry.harbor.storageClass",
    "registry.harbor.storageGiB",
    "registry.hostname",
    "registry.mode",
    "registry.proxyCache[0].name",
    "registry.proxyCache[0].upstream",
    "registry.proxyCache[1].name",
    "registry.proxyCache[1].upstream",
];

describe("cli: groundwork diff-stacks", () => {
    it("lists exactly the keys where dev and prod differ, defaults applied (--json)", async () => {
        const r = await capture(() => run(["dev", "prod", "--json"]));
        assert.strictEqual(r.code, 0, r.err);
        const doc = JSON.parse(r.out);
        assert.deepStrictEqual(
            doc.differences.map((d: { key: string }) => d.key),
            DEV_PROD_KEYS,
        );
        assert.deepStrictEqual(doc.differences.find((d: { key: string }) => d.key === "machines.controlPlane.count"), { key: "machines.controlPlane.count", a: 1, b: 3 });
        // A default on one side against a setting on the other: dev's default 7 vs prod's 24.
        assert.deepStrictEqual(doc.differences.find((d: { key: string }) => d.key === "cluster.addons.etcdSnapshots.retention"), { key: "cluster.addons.etcdSnapshots.retention", a: 7, b: 24 });
        assert.deepStrictEqual(doc.differences.find((d: { key: string }) => d.key === "network.loadBalancerPool"), { key: "network.loadBalancerPool", a: null, b: "10.40.3.0/26" });
        // The app matrix: the profile's defaults against prod's profile and its explicit overrides.
        const d = (key: string) => doc.differences.find((x: { key: string }) => x.key === key);
        assert.deepStrictEqual(d("apps.profile"), { key: "apps.profile", a: "dev", b: "prod" });
        assert.deepStrictEqual(d("apps.workloads.api.replicas"), { key: "apps.workloads.api.replicas", a: 1, b: 4 });
        assert.deepStrictEqual(d("apps.workloads.users.storageGiB"), { key: "apps.workloads.users.storageGiB", a: 5, b: 200 });
        assert.deepStrictEqual(d("apps.storageClass"), { key: "apps.storageClass", a: "csi-cinder-sc-retain", b: "cinder-ssd" });
        assert.deepStrictEqual(d("apps.workloads.site.ingressHost"), { key: "apps.workloads.site.ingressHost", a: null, b: "www.prod.example" });
        // Same role, image, queue engine and single-instance replicas on both: identical, not listed.
        assert.strictEqual(d("apps.workloads.users.image"), undefined);
        assert.strictEqual(doc.identical, 47); // registry.airGapped is false on both now; +1 the static site's webServerImage; +3 machines.onChange and machines.rollout's two keys; +2 cluster.certificates' two defaults
    });

    it("prints aligned KEY/dev/prod columns, only differing keys, and a count line", async () => {
        const r = await capture(() => run(["dev", "prod"]));
        assert.strictEqual(r.code, 0, r.err);
        const table = rows(r.out);
        assert.deepStrictEqual([...table.keys()], DEV_PROD_KEYS);
        assert.deepStrictEqual(table.get("machines.controlPlane.count"), ["1", "3"]);
        assert.deepStrictEqual(table.get("cluster.cni.kind"), ["calico", "cilium"]);
        assert.deepStrictEqual(table.get("backends.openstack.bootVolumeGiB"), ["—", "80"]);
        assert.deepStrictEqual(table.get("network.dns"), ["[10.20.0.2]", "[10.40.0.2, 10.40.0.3]"]);
        for (const same of ["cluster.kubernetesVersion", "engine.kind", "machines.controlPlane.backend", "cluster.podCidr", "backends.openstack.image"]) {
            assert.ok(!r.out.includes(same), `${same} is identical and must not be printed`);
        }
        const lines = r.out.trimEnd().split("\n");
        assert.strictEqual(lines[0], "dev (stacks/Pulumi.dev.yaml) vs prod (stacks/Pulumi.prod.yaml): effective config, defaults applied");
        assert.strictEqual(lines[lines.length - 1], "77 keys differ, 47 identical"); // +3 engine.proxy keys, registry.airGapped now the same, +1 webServerImage, +3 machines.onChange and rollout, +2 cluster.certificates
        const header = lines[2];
        const row = lines.find((l) => l.startsWith("machines.controlPlane.count"))!;
        assert.strictEqual(row.indexOf("1 "), header.indexOf("dev"), "column A is aligned under its header");
        assert.strictEqual(row.lastIndexOf("3"), header.indexOf("prod"), "column B is aligned under its header");
    });

    it("accepts a path to a stack file and prints no table when nothing differs", async () => {
        const r = await capture(() => run(["dev", path.join("stacks", "Pulumi.dev.yaml")]));
        assert.strictEqual(r.code, 0, r.err);
        assert.ok(!r.out.includes("KEY"), r.out);
        assert.strictEqual(r.out.trimEnd().split("\n").pop(), "0 keys differ, 90 identical");
    });

    it("exits 2 naming an unknown stack and the known ones", async () => {
        const r = await capture(() => run(["dev", "staging"]));
        assert.strictEqual(r.code, 2);
        assert.strictEqual(r.out, "");
        assert.strictEqual(r.err, 'staging: no stack "staging"; known stacks: customer-dc, dev, local, prod, qa (or give a path to a stack file)\n');
    });

    it("exits 2 with every problem of an invalid stack file", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gw-diff-"));
        const file = path.join(dir, "Pulumi.bad.yaml");
        fs.writeFileSync(file, fs.readFileSync("stacks/Pulumi.dev.yaml", "utf8").replace("controlPlane: { count: 1,", "controlPlane: { count: 2,"));
        try {
            const r = await capture(() => run([file, "prod"]));
            assert.strictEqual(r.code, 2);
            const rel = path.relative(process.cwd(), file);
            assert.strictEqual(
                r.err,
                `${rel}: platform.machines.controlPlane.count: must be 1, 3 or 5 (an odd etcd quorum), got 2\n${rel}: invalid stack (1 problem); run \`groundwork validate\` on it\n`,
            );
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("exits 2 through main when not given exactly two stacks", async () => {
        const r = await capture(() => main(["diff-stacks", "dev"]));
        assert.strictEqual(r.code, 2);
        assert.strictEqual(r.err, "groundwork diff-stacks: give two stacks to compare, e.g. `groundwork diff-stacks dev prod` (got 1); a stack is a name in stacks/ or a path to a stack file\n");
    });
});

describe("diff-stacks: flatten and compare", () => {
    it("quotes keys with dots, indexes object arrays, keeps scalar arrays whole, drops empty containers", () => {
        const flat = flatten({ labels: { "node.groundwork.io/tier": "general" }, taints: [{ key: "k" }], dns: ["a", "b"], mirrors: [], extra: {} });
        assert.deepStrictEqual([...flat.entries()], [
            ['labels["node.groundwork.io/tier"]', "general"],
            ["taints[0].key", "k"],
            ["dns", ["a", "b"]],
        ]);
    });

    it("treats an empty list and an absent one as the same, and reports a changed list once", () => {
        assert.deepStrictEqual(diffConfigs({ a: [], b: ["x"] }, { b: ["x", "y"] }), { differences: [{ key: "b", a: ["x"], b: ["x", "y"] }], identical: 0 });
    });
});
