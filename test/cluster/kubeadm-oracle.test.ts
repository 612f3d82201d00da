import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stackBillOfMaterials } from "../../cli/commands/bom";
import { PlatformSpec } from "../../components/platform/config";
import { k8sBinary, kubeadmConfigs, oracleStacks, runK8s } from "../support/kubernetes";

/**
 * kubeadm v1.33.13, built from Go modules by tools/kubernetes/build.sh, is the oracle for what
 * groundwork renders for it: every rendered config must pass `kubeadm config validate`, and the
 * images kubeadm says it pulls must be the bill of materials' kubeadm images at the paths the
 * registry serves them.
 */
describe("kubeadm as the oracle (real kubeadm v1.33.13)", function () {
    this.timeout(300_000);
    let stacks: [string, PlatformSpec][];
    let dir: string;
    before(() => {
        stacks = oracleStacks();
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "gw-kubeadm-"));
        assert.match(runK8s("kubeadm", ["version", "-o", "short"]).trim(), /^v1\.33\.13$/);
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("`kubeadm config validate` accepts every rendered init, control-plane join and worker join config", () => {
        const counts: Record<string, number> = { init: 0, "control-plane join": 0, "worker join": 0 };
        const seen = new Set<string>();
        for (const [stack, spec] of stacks) {
            // UpgradeConfigurations: `kubeadm config validate` only checks their kind (see the next test).
            for (const cfg of kubeadmConfigs(stack, spec).filter((c) => c.kind !== "upgrade")) {
                counts[cfg.kind]++;
                const file = path.join(dir, `${stack}-${cfg.machine}-${cfg.kind.replace(/ /g, "-")}.yaml`);
                fs.writeFileSync(file, cfg.content);
                seen.add(stack);
                // Throws with kubeadm's own message (unknown field, bad token, bad CIDR, …) naming the file.
                runK8s("kubeadm", ["config", "validate", "--config", file]);
            }
        }
        // Every example stack that builds a cluster, and every variant, was validated.
        assert.deepStrictEqual([...seen].sort(), ["customer-dc", "customer-dc-tuned", "dev", "guest-cluster", "prod", "prod-harbor-k8s-cache", "qa", "qa-docker"]);
        // init: one per cluster; joins: every control plane (the first one too) and every worker.
        assert.deepStrictEqual(counts, { init: 8, "control-plane join": 20, "worker join": 31 });
    });

    it("kubeadm's strict decoder finds nothing unknown in a rendered UpgradeConfiguration, and names a misspelled field", () => {
        // `kubeadm config validate` checks no more than an UpgradeConfiguration's kind: `upgrade node
        // --dry-run` decodes it as an upgrade does, warning of every field it does not know, before it
        // looks for a cluster (in a private mount namespace whose /etc is a scratch copy: its dry run writes under /etc/kubernetes).
        const decode = (file: string) => {
            const etc = path.join(dir, "etc");
            const r = spawnSync("unshare", ["-m", "bash", "-c", `rm -rf '${etc}' && cp -a /etc '${etc}' 2>/dev/null; mount --bind '${etc}' /etc && exec "$@"`, "decode", k8sBinary("kubeadm"), "upgrade", "node", "--config", file, "--kubeconfig", path.join(dir, "none.conf"), "--dry-run"], { encoding: "utf8", timeout: 120_000 });
            return `${r.stdout}${r.stderr}`;
        };
        const upgrades = stacks.flatMap(([stack, spec]) => kubeadmConfigs(stack, spec).filter((c) => c.kind === "upgrade"));
        // Hand-counted: the tuned stacks' nodes, guest-cluster's 1 + 1 and customer-dc-tuned's 3 + 3; the control planes' carry the patches directory.
        assert.deepStrictEqual(upgrades.map((c) => `${c.stack}:${/patches:/.test(c.content) ? "patches" : "timeouts"}`).sort(), [...Array(3).fill("customer-dc-tuned:patches"), ...Array(3).fill("customer-dc-tuned:timeouts"), "guest-cluster:patches", "guest-cluster:timeouts"]);
        for (const cfg of upgrades) {
            const file = path.join(dir, `${cfg.stack}-${cfg.machine}-upgrade.yaml`);
            fs.writeFileSync(file, cfg.content);
            const out = decode(file);
            assert.match(out, /\[dryrun\] Dryrunning without a real client/, out);
            assert.doesNotMatch(out, /strict decoding error|unknown field/, `${cfg.stack} ${cfg.machine}:\n${out}`);
        }
        const bad = path.join(dir, "bad-upgrade.yaml");
        fs.writeFileSync(bad, upgrades[0].content.replace("upgradeManifests:", "upgradeManifest:"));
        assert.match(decode(bad), /strict decoding error: unknown field "timeouts\.upgradeManifest"/);
    });

    it("kubeadm rejects what it must: the oracle is not a rubber stamp", () => {
        const [, spec] = stacks.find(([n]) => n === "dev")!;
        const init = kubeadmConfigs("dev", spec).find((c) => c.kind === "init")!;
        const bad = path.join(dir, "bad.yaml");
        fs.writeFileSync(bad, init.content.replace("clusterName:", "clusterNmae:"));
        assert.throws(() => runK8s("kubeadm", ["config", "validate", "--config", bad]), /unknown field "clusterNmae"/);
        fs.writeFileSync(bad, init.content.replace("abcdef.0123456789abcdef", "not-a-token"));
        assert.throws(() => runK8s("kubeadm", ["config", "validate", "--config", bad]), /token/i);
    });

    it("`kubeadm config images list` of each rendered init config equals the bill of materials' kubeadm images at their registry paths", () => {
        const checked: string[] = [];
        for (const [stack, spec] of stacks) {
            const init = kubeadmConfigs(stack, spec).find((c) => c.kind === "init");
            if (!init) continue;
            const file = path.join(dir, `${stack}-images.yaml`);
            fs.writeFileSync(file, init.content);
            const pulled = runK8s("kubeadm", ["config", "images", "list", "--config", file])
                .split("\n")
                .map((l) => l.trim())
                .filter((l) => l.length > 0)
                .sort();
            const bom = stackBillOfMaterials(spec);
            // Air-gapped, kubeadm names the registry's paths; otherwise the upstream names (containerd's mirrors route them).
            const expected = bom.layers.kubeadm.images.map((i) => (spec.config.registry.airGapped ? (bom.registryPaths[i] ?? i) : i)).sort();
            assert.deepStrictEqual(pulled, expected, stack);
            // Everything kubeadm pulls is in the list a mirror is filled from.
            for (const i of bom.layers.kubeadm.images) assert.ok(bom.images.includes(i), `${stack}: ${i} in the bill of materials`);
            checked.push(`${stack}:${pulled.length}`);
        }
        assert.deepStrictEqual(checked, ["customer-dc:7", "dev:7", "prod:7", "qa:7", "qa-docker:7", "guest-cluster:7", "customer-dc-tuned:7", "prod-harbor-k8s-cache:7"]);
    });

    it("air-gapped, kubeadm pulls CoreDNS, etcd and pause from the registry at their upstream paths (hand-checked)", () => {
        const air = stacks.find(([n]) => n === "customer-dc")!;
        const harbor = stacks.find(([n]) => n === "prod-harbor-k8s-cache")!;
        const list = ([stack, spec]: [string, PlatformSpec]) => {
            const file = path.join(dir, `${stack}-hand.yaml`);
            fs.writeFileSync(file, kubeadmConfigs(stack, spec).find((c) => c.kind === "init")!.content);
            return runK8s("kubeadm", ["config", "images", "list", "--config", file]).trim().split("\n");
        };
        assert.deepStrictEqual(list(air), [
            "registry.cdc.customer.example:5000/kube-apiserver:v1.33.13",
            "registry.cdc.customer.example:5000/kube-controller-manager:v1.33.13",
            "registry.cdc.customer.example:5000/kube-scheduler:v1.33.13",
            "registry.cdc.customer.example:5000/kube-proxy:v1.33.13",
            "registry.cdc.customer.example:5000/coredns/coredns:v1.12.1",
            "registry.cdc.customer.example:5000/pause:3.10",
            "registry.cdc.customer.example:5000/etcd:3.5.21-0",
        ]);
        // Harbor is never air-gapped: kubeadm keeps registry.k8s.io's names; containerd's registry.k8s.io mirror is the k8s project.
        assert.ok(list(harbor).includes("registry.k8s.io/coredns/coredns:v1.12.1"));
    });
});
