/**
 * The Kubernetes upgrade a converge runs on a node (issue 13, item 2), for real with bash: the
 * packages part and the kubeadm part of one machine, in a private mount namespace whose /etc is a
 * copy (so /etc/kubernetes and /etc/groundwork are scratch), with stand-ins that record every call
 * in order: dpkg-query answers from a package table the apt-get stand-in updates, kubeadm, kubectl,
 * apt-mark and systemctl only record. A joined node is one with /etc/kubernetes/kubelet.conf.
 */
import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { clusterSettings, kubeadmPart } from "../../components/cluster";
import { kubernetesPackagesPart } from "../../components/cluster/packages";
import { renderPartsScript } from "../../components/engine/bootstrap";
import { parse, rawPlatform } from "./fixture";

const TRUST = { caCertPem: "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n", caCertHash: `sha256:${"1".repeat(64)}` };
const made: string[] = [];

const STANDINS: Record<string, string> = {
    // The package table: "name version" lines; an unknown package is not installed.
    "dpkg-query": 'pkg=${@: -1}; v=$(awk -v p="$pkg" \'$1 == p { print $2 }\' "$GW_PKGS"); if [[ -z $v ]]; then exit 1; fi\nif [[ $* == *db:Status-Status* ]]; then printf "installed %s" "$v"; else printf "%s" "$v"; fi',
    "apt-get": 'echo "apt-get ${*: -$(( $# ))}" | sed -E "s/ -o [^ ]+//g; s/ -q -y//" >> "$GW_LOG"\nfor a in "$@"; do if [[ $a == *=* && $a != *::* && $a != -* ]]; then p=${a%%=*}; v=${a#*=}; sed -i "/^$p /d" "$GW_PKGS"; echo "$p $v" >> "$GW_PKGS"; fi; done',
    "apt-mark": 'if [[ $1 == showhold ]]; then sort -u "$GW_DIR/holds" 2>/dev/null; exit 0; fi; echo "apt-mark $*" >> "$GW_LOG"; if [[ $1 == hold ]]; then echo "$2" >> "$GW_DIR/holds"; fi',
    // GW_APPLY_FAILS: how many `kubeadm upgrade apply` calls fail (as its CreateJob preflight does when the Job is late).
    // The UpgradeConfiguration kubeadm was given, as it was on disk then.
    kubeadm: 'echo "kubeadm $*" >> "$GW_LOG"\nif [[ $* == *"--config /etc/groundwork/kubeadm/upgrade.yaml"* ]]; then cp /etc/groundwork/kubeadm/upgrade.yaml "$GW_DIR/upgrade.yaml"; fi\nif [[ $* == "upgrade apply"* ]]; then n=$(cat "$GW_DIR/applies" 2>/dev/null || echo 0); echo $((n + 1)) > "$GW_DIR/applies"; if (( n < ${GW_APPLY_FAILS:-0} )); then if [[ ${GW_APPLY_ERROR:-CreateJob} == CreateJob && $* == *ignore-preflight-errors=CreateJob* ]]; then exit 0; fi; echo "\t[ERROR ${GW_APPLY_ERROR:-CreateJob}]: it failed" >&2; exit 1; fi; fi',
    kubectl: 'echo "kubectl $*" >> "$GW_LOG"; if [[ $* == *create* ]]; then echo "kind: ConfigMap"; else cat > "$GW_DIR/replaced"; fi',
    systemctl: 'echo "systemctl $*" >> "$GW_LOG"',
    curl: "exit 0",
    // The retry's pause, skipped.
    sleep: "exit 0",
};

interface Run {
    status: number | null;
    output: string;
    calls: string[];
    packages: string;
    /** The file `kubeadm upgrade … --config` named, when one was named. */
    upgradeConfig?: string;
}

/** A file the run may not have written: its text, or `absent`. */
function readOr<T>(file: string, absent: T): string | T {
    try {
        return readFileSync(file, "utf8");
    } catch {
        return absent;
    }
}

/** Runs `script` on a node whose packages are `installed` ("name version" lines); joined when `joined`. */
function run(script: string, installed: string[], joined: boolean, applyFails = 0, applyError = "CreateJob"): Run {
    const dir = mkdtempSync(join(tmpdir(), "gw-upgrade-run-"));
    made.push(dir);
    execFileSync("mkdir", ["-p", join(dir, "bin")]);
    for (const [name, body] of Object.entries(STANDINS)) writeFileSync(join(dir, "bin", name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
    writeFileSync(join(dir, "pkgs"), installed.map((l) => `${l}\n`).join(""));
    // As on a node: every installed Kubernetes package is held.
    writeFileSync(join(dir, "holds"), installed.map((l) => `${l.split(" ")[0]}\n`).join(""));
    writeFileSync(join(dir, "bootstrap.sh"), script);
    const driver = [
        "set -e",
        `cp -a /etc ${dir}/etc 2>/dev/null || true`,
        `mount --bind ${dir}/etc /etc`,
        "rm -rf /etc/groundwork /etc/kubernetes",
        ...(joined ? ["install -d /etc/kubernetes", "echo kubelet > /etc/kubernetes/kubelet.conf"] : []),
        `bash ${dir}/bootstrap.sh`,
    ].join("\n");
    const r = spawnSync("unshare", ["-m", "bash", "-c", driver], {
        encoding: "utf8",
        env: { PATH: `${dir}/bin:/usr/sbin:/usr/bin:/sbin:/bin`, GW_LOG: join(dir, "log"), GW_PKGS: join(dir, "pkgs"), GW_DIR: dir, GW_APPLY_FAILS: String(applyFails), GW_APPLY_ERROR: applyError },
        timeout: 60_000,
    });
    const log = readOr(join(dir, "log"), "");
    return { status: r.status, output: r.stdout + r.stderr, calls: log.split("\n").filter(Boolean), packages: readFileSync(join(dir, "pkgs"), "utf8"), upgradeConfig: readOr(join(dir, "upgrade.yaml"), undefined) };
}

const at = (v: string) => ["kubeadm", "kubelet", "kubectl"].map((p) => `${p} ${v}-1.1`);
const TOOLS_133 = ["cri-tools 1.34.0-1.1", "kubernetes-cni 1.6.2-1.1"];

describe("a Kubernetes upgrade on a node, run by its converge (bash, for real)", function () {
    this.timeout(120_000);
    after(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));
    const spec = parse(rawPlatform("baremetal", 3, 1, { kubernetesVersion: "1.34.2", controlPlaneEndpoint: { mode: "external", address: "10.20.0.5" } }));
    const settings = clusterSettings({ config: spec.config.cluster, clusterName: "gw", backends: ["baremetal"] });
    const [first, second, , worker] = spec.machines;
    const script = (m: typeof first) => renderPartsScript(m.name, [kubernetesPackagesPart(settings), kubeadmPart(settings, m, first.name, TRUST)]);

    it("a worker at 1.33.13: kubeadm moves first, then `kubeadm upgrade node`, then kubelet, kubectl and the tools, then kubelet restarts", () => {
        const r = run(script(worker), [...at("1.33.13"), ...TOOLS_133], true);
        assert.strictEqual(r.status, 0, r.output);
        assert.match(r.output, /upgrading this node from 1\.33\.13 to 1\.34\.2, kubeadm first/);
        assert.deepStrictEqual(r.calls, [
            "apt-get update",
            "apt-get install --no-install-recommends --allow-change-held-packages kubeadm=1.34.2-1.1",
            "systemctl enable kubelet",
            "kubeadm upgrade node",
            "apt-get install --no-install-recommends --allow-change-held-packages --allow-downgrades kubeadm=1.34.2-1.1 kubelet=1.34.2-1.1 kubectl=1.34.2-1.1 cri-tools=1.34.0-1.1 kubernetes-cni=1.7.1-1.1",
            "apt-mark hold kubeadm",
            "apt-mark hold kubelet",
            "apt-mark hold kubectl",
            "apt-mark hold cri-tools",
            "apt-mark hold kubernetes-cni",
            "systemctl daemon-reload",
            "systemctl restart kubelet",
        ]);
        assert.match(r.packages, /^kubelet 1\.34\.2-1\.1$/m);
        assert.match(r.output, /gw-general-1 upgraded to 1\.34\.2/);
        // Run again (the state the first run left): nothing to upgrade, nothing installed.
        const again = run(script(worker), r.packages.split("\n").filter(Boolean), true);
        assert.strictEqual(again.status, 0, again.output);
        assert.deepStrictEqual(again.calls, ["systemctl enable kubelet"]);
    });

    it("the first control plane stores the new ClusterConfiguration, waits for the images, then `kubeadm upgrade apply`; the others `upgrade node`", () => {
        const r = run(script(first), [...at("1.33.13"), ...TOOLS_133], true);
        assert.strictEqual(r.status, 0, r.output);
        const i = (prefix: string) => r.calls.findIndex((c) => c.startsWith(prefix));
        assert.ok(i("apt-get install --no-install-recommends --allow-change-held-packages kubeadm=1.34.2-1.1") < i("kubectl --kubeconfig /etc/kubernetes/admin.conf -n kube-system create configmap kubeadm-config --from-file=ClusterConfiguration=/etc/groundwork/kubeadm/cluster.yaml"), r.calls.join("\n"));
        assert.ok(i("kubectl --kubeconfig /etc/kubernetes/admin.conf replace -f -") < i("kubeadm config images pull --config /etc/groundwork/kubeadm/cluster.yaml"));
        assert.ok(i("kubeadm config images pull") < i("kubeadm upgrade apply --yes v1.34.2"));
        assert.ok(i("kubeadm upgrade apply") < i("apt-get install --no-install-recommends --allow-change-held-packages --allow-downgrades kubeadm=1.34.2-1.1 kubelet=1.34.2-1.1"));
        assert.ok(i("apt-get install --no-install-recommends --allow-change-held-packages --allow-downgrades") < i("systemctl restart kubelet"));
        assert.strictEqual(r.calls.filter((c) => c.startsWith("kubeadm upgrade node")).length, 0);
        const other = run(script(second), [...at("1.33.13"), ...TOOLS_133], true);
        assert.strictEqual(other.status, 0, other.output);
        assert.deepStrictEqual(other.calls.filter((c) => c.startsWith("kubeadm") || c.startsWith("kubectl")), ["kubeadm config images pull --config /etc/groundwork/kubeadm/cluster.yaml", "kubeadm upgrade node"]);
    });

    it("with cluster.tuning, apply and node get --config: an UpgradeConfiguration with the tuned timeouts, and on control planes the patches directory", () => {
        const tunedSpec = parse(rawPlatform("baremetal", 3, 1, { kubernetesVersion: "1.34.2", controlPlaneEndpoint: { mode: "external", address: "10.20.0.5" }, tuning: { kubeadmTimeoutMinutes: 30, controlPlaneStartupSeconds: 600 } }));
        const tuned = clusterSettings({ config: tunedSpec.config.cluster, clusterName: "gw", backends: ["baremetal"] });
        const [f, s2, , w] = tunedSpec.machines;
        const tunedScript = (m: typeof f) => renderPartsScript(m.name, [kubernetesPackagesPart(tuned), kubeadmPart(tuned, m, f.name, TRUST)]);
        const upgrades = (r: Run) => r.calls.filter((c) => c.startsWith("kubeadm upgrade"));
        // Hand-written: kubeadm v1beta4's seven timeouts at 30 minutes.
        const timeouts = ["controlPlaneComponentHealthCheck", "kubeletHealthCheck", "kubernetesAPICall", "etcdAPICall", "tlsBootstrap", "discovery", "upgradeManifests"].map((k) => `  ${k}: 30m0s\n`).join("");
        const patches = "  patches:\n    directory: /etc/groundwork/kubeadm/patches\n";
        const header = "apiVersion: kubeadm.k8s.io/v1beta4\nkind: UpgradeConfiguration\n";
        const r = run(tunedScript(f), [...at("1.33.13"), ...TOOLS_133], true);
        assert.strictEqual(r.status, 0, r.output);
        assert.deepStrictEqual(upgrades(r), ["kubeadm upgrade apply --config /etc/groundwork/kubeadm/upgrade.yaml --yes v1.34.2"]);
        assert.strictEqual(r.upgradeConfig, `${header}apply:\n${patches}node:\n${patches}timeouts:\n${timeouts}`);
        const other = run(tunedScript(s2), [...at("1.33.13"), ...TOOLS_133], true);
        assert.deepStrictEqual(upgrades(other), ["kubeadm upgrade node --config /etc/groundwork/kubeadm/upgrade.yaml"]);
        assert.strictEqual(other.upgradeConfig, r.upgradeConfig);
        const wr = run(tunedScript(w), [...at("1.33.13"), ...TOOLS_133], true);
        assert.deepStrictEqual(upgrades(wr), ["kubeadm upgrade node --config /etc/groundwork/kubeadm/upgrade.yaml"]);
        assert.strictEqual(wr.upgradeConfig, `${header}timeouts:\n${timeouts}`);
        // Untuned (the tests above): no file, no --config.
        assert.deepStrictEqual(upgrades(run(script(worker), [...at("1.33.13"), ...TOOLS_133], true)), ["kubeadm upgrade node"]);
    });

    it("`kubeadm upgrade apply` failed by its CreateJob check (kubeadm's 15 s test Job) is tried again without that check alone; the kubelet then moves", () => {
        const r = run(script(first), [...at("1.33.13"), ...TOOLS_133], true, 3);
        assert.strictEqual(r.status, 0, r.output);
        assert.deepStrictEqual(r.calls.filter((c) => c.startsWith("kubeadm upgrade apply")), ["kubeadm upgrade apply --yes v1.34.2", "kubeadm upgrade apply --yes --ignore-preflight-errors=CreateJob v1.34.2"]);
        assert.match(r.output, /kubeadm: its test Job did not finish within 15s; the next attempt skips that check \(CreateJob\)/);
        assert.match(r.packages, /^kubelet 1\.34\.2-1\.1$/m);
    });

    it("any other failure of `kubeadm upgrade apply` is tried again as it was, at most 3 times; the third stops the node before its kubelet moves", () => {
        const once = run(script(first), [...at("1.33.13"), ...TOOLS_133], true, 1, "ControlPlaneNodesReady");
        assert.strictEqual(once.status, 0, once.output);
        assert.strictEqual(once.calls.filter((c) => c === "kubeadm upgrade apply --yes v1.34.2").length, 2, once.calls.join("\n"));
        assert.match(once.output, /kubeadm: upgrade apply failed \(attempt 1 of 3\); trying again in 20s/);
        assert.match(once.packages, /^kubelet 1\.34\.2-1\.1$/m);
        const always = run(script(first), [...at("1.33.13"), ...TOOLS_133], true, 3, "ControlPlaneNodesReady");
        assert.strictEqual(always.status, 1, always.output);
        assert.deepStrictEqual(always.calls.filter((c) => c.startsWith("kubeadm upgrade apply")), Array(3).fill("kubeadm upgrade apply --yes v1.34.2"));
        assert.match(always.output, /kubeadm: upgrade apply v1\.34\.2 failed 3 times; kubelet stays at 1\.33\.13; fix what kubeadm said above, then run pulumi up again/);
        assert.match(always.output, /\[ERROR ControlPlaneNodesReady\]/);
        assert.ok(!always.calls.includes("systemctl restart kubelet"), always.calls.join("\n"));
        assert.match(always.packages, /^kubelet 1\.33\.13-1\.1$/m);
    });

    it("refuses a downgrade and a skipped minor before touching anything, naming the versions", () => {
        const down = run(script(worker), [...at("1.35.1"), ...TOOLS_133], true);
        assert.strictEqual(down.status, 1, down.output);
        assert.match(down.output, /this node runs Kubernetes 1\.35\.1; 1\.34\.2 is a downgrade, which kubeadm does not do: set cluster\.kubernetesVersion to 1\.35\.1 or newer \(nothing was changed\)/);
        assert.deepStrictEqual(down.calls, []);
        const skip = run(script(first), [...at("1.32.9"), ...TOOLS_133], true);
        assert.strictEqual(skip.status, 1, skip.output);
        assert.match(skip.output, /this node runs Kubernetes 1\.32\.9; 1\.34\.2 skips a minor version, which kubeadm does not do: upgrade to 1\.33\.x first \(nothing was changed\)/);
        assert.deepStrictEqual(skip.calls, []);
    });

    it("a node not yet joined just installs the pins (no kubeadm upgrade); a patch upgrade goes the same way as a minor one", () => {
        // (Only the packages part: a new node's kubeadm part would wait for its join material.)
        const fresh = run(renderPartsScript(worker.name, [kubernetesPackagesPart(settings)]), [], false);
        assert.strictEqual(fresh.status, 0, fresh.output);
        assert.ok(fresh.calls.every((c) => !c.startsWith("kubeadm upgrade")), fresh.calls.join("\n"));
        assert.ok(fresh.calls.includes("apt-get install --no-install-recommends --allow-change-held-packages --allow-downgrades kubeadm=1.34.2-1.1 kubelet=1.34.2-1.1 kubectl=1.34.2-1.1 cri-tools=1.34.0-1.1 kubernetes-cni=1.7.1-1.1"), fresh.calls.join("\n"));
        const patch = run(script(worker), [...at("1.34.1"), "cri-tools 1.34.0-1.1", "kubernetes-cni 1.7.1-1.1"], true);
        assert.strictEqual(patch.status, 0, patch.output);
        assert.ok(patch.calls.indexOf("kubeadm upgrade node") > patch.calls.indexOf("apt-get install --no-install-recommends --allow-change-held-packages kubeadm=1.34.2-1.1"), patch.calls.join("\n"));
    });
});
