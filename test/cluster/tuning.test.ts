/**
 * cluster.tuning, for slow machines only: kubeadm itself applies the rendered patches to the
 * control-plane static pods (`kubeadm init phase control-plane --dry-run` with the rendered init
 * config), and a stack without tuning renders neither timeouts nor patches.
 */
import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseAllDocuments, stringify } from "yaml";
import { CLUSTER_PROVIDER, engineInputs } from "../../cli/commands/render";
import { PATCHES_DIR } from "../../components/cluster/kubeadm";
import { KEY_ALGORITHMS } from "../../components/cluster/config";
import { PlatformSpec } from "../../components/platform/config";
import { exampleSpec, fillPlaceholders, k8sBinary, variantSpec } from "../support/kubernetes";
import { loadStackFile } from "../../cli/stackfile";
import { writeStackFile } from "../support/cli";

function firstControlPlaneFiles(spec: PlatformSpec): { path: string; content: string }[] {
    const { engine, engineOptions } = engineInputs(spec);
    const machine = spec.machines.find((m) => m.role === "control-plane")!;
    return CLUSTER_PROVIDER.parts({ spec, machine, engine, engineOptions }).flatMap((p) => p.files);
}

describe("cluster.tuning: kubeadm timeouts and control-plane probes for slow machines", () => {
    const tuned = () => variantSpec("customer-dc", (p) => (p.cluster.tuning = { kubeadmTimeoutMinutes: 30, controlPlaneStartupSeconds: 1500 }));

    it("a stack without tuning renders kubeadm's own timeouts and no patches", () => {
        const files = firstControlPlaneFiles(exampleSpec("customer-dc"));
        const init = files.find((f) => f.path.endsWith("init.template.yaml"))!.content;
        assert.doesNotMatch(init, /timeouts:|patches:/);
        assert.deepStrictEqual(files.filter((f) => f.path.startsWith(PATCHES_DIR)), []);
    });

    it("kubeadm applies the rendered patches: every control-plane pod gets 150 startup probe failures (1500 s) and 30 s probe timeouts", function () {
        this.timeout(180_000);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gw-tuning-"));
        try {
            const files = firstControlPlaneFiles(tuned());
            const patches = files.filter((f) => f.path.startsWith(PATCHES_DIR + "/"));
            assert.deepStrictEqual(patches.map((f) => path.basename(f.path)).sort(), ["etcd+strategic.yaml", "kube-apiserver+strategic.yaml", "kube-controller-manager+strategic.yaml", "kube-scheduler+strategic.yaml"]);
            fs.mkdirSync(path.join(dir, "patches"));
            for (const f of patches) fs.writeFileSync(path.join(dir, "patches", path.basename(f.path)), f.content);
            const init = fillPlaceholders(files.find((f) => f.path.endsWith("init.template.yaml"))!.content).split(PATCHES_DIR).join(path.join(dir, "patches"));
            fs.writeFileSync(path.join(dir, "init.yaml"), init);
            const timeouts = parseAllDocuments(init).map((d) => d.toJS()).find((d) => d.kind === "InitConfiguration").timeouts;
            assert.strictEqual(timeouts.controlPlaneComponentHealthCheck, "30m0s");
            const run = (phase: string) =>
                execFileSync(k8sBinary("kubeadm"), ["init", "phase", phase, "all", "--config", path.join(dir, "init.yaml"), "--dry-run"], { env: { ...process.env, KUBEADM_INIT_DRYRUN_DIR: path.join(dir, "out") }, stdio: ["ignore", "pipe", "pipe"], timeout: 120_000 }).toString();
            run("control-plane");
            execFileSync(k8sBinary("kubeadm"), ["init", "phase", "etcd", "local", "--config", path.join(dir, "init.yaml"), "--dry-run"], { env: { ...process.env, KUBEADM_INIT_DRYRUN_DIR: path.join(dir, "out") }, stdio: ["ignore", "pipe", "pipe"], timeout: 120_000 });
            for (const pod of ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"]) {
                const manifest = parseAllDocuments(fs.readFileSync(path.join(dir, "out", `${pod}.yaml`), "utf8"))[0].toJS();
                const c = manifest.spec.containers.find((x: { name: string }) => x.name === pod);
                assert.strictEqual(c.startupProbe.failureThreshold, 150, pod);
                assert.strictEqual(c.startupProbe.timeoutSeconds, 30, pod);
                assert.strictEqual(c.livenessProbe.timeoutSeconds, 30, pod);
                // kubeadm's own probe path stays: only the thresholds moved.
                assert.ok(c.startupProbe.httpGet.path, pod);
            }
            // The API server's readiness: every 10 s, not kubeadm's every second; the other pods have no readiness probe.
            const api = parseAllDocuments(fs.readFileSync(path.join(dir, "out", "kube-apiserver.yaml"), "utf8"))[0].toJS().spec.containers[0];
            assert.deepStrictEqual([api.readinessProbe.periodSeconds, api.readinessProbe.timeoutSeconds, api.readinessProbe.httpGet.path], [10, 30, "/readyz"]);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("untuned, kubeadm's own API server probes stand: readiness every second", function () {
        this.timeout(180_000);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gw-tuning-"));
        try {
            const files = firstControlPlaneFiles(exampleSpec("customer-dc"));
            fs.writeFileSync(path.join(dir, "init.yaml"), fillPlaceholders(files.find((f) => f.path.endsWith("init.template.yaml"))!.content));
            execFileSync(k8sBinary("kubeadm"), ["init", "phase", "control-plane", "apiserver", "--config", path.join(dir, "init.yaml"), "--dry-run"], { env: { ...process.env, KUBEADM_INIT_DRYRUN_DIR: path.join(dir, "out") }, stdio: ["ignore", "pipe", "pipe"], timeout: 120_000 });
            const api = parseAllDocuments(fs.readFileSync(path.join(dir, "out", "kube-apiserver.yaml"), "utf8"))[0].toJS().spec.containers[0];
            assert.deepStrictEqual([api.readinessProbe.periodSeconds, api.readinessProbe.timeoutSeconds], [1, 15]);
            assert.ok(!(api.command as string[]).some((a) => a.startsWith("--etcd-healthcheck-timeout")), api.command.join(" "));
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("refuses a startup allowance under a minute, naming the key", () => {
        const doc = { "groundwork:platform": { ...require("yaml").parse(fs.readFileSync(path.resolve(__dirname, "../../stacks/Pulumi.customer-dc.yaml"), "utf8")).config["groundwork:platform"] } };
        doc["groundwork:platform"].cluster.tuning = { controlPlaneStartupSeconds: 30 };
        const r = loadStackFile(writeStackFile(doc));
        assert.ok(r.problems.some((p) => p.path === "platform.cluster.tuning.controlPlaneStartupSeconds" && /60/.test(p.message)), JSON.stringify(r.problems));
    });
});

describe("cluster.tuning.controlPlaneLeaseSeconds", () => {
    it("kubeadm renders the controller manager and scheduler with a 60 / 40 / 12 s leader lease; unset keeps Kubernetes' own", function () {
        this.timeout(180_000);
        const flags = (spec: PlatformSpec) => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gw-lease-"));
            try {
                const files = firstControlPlaneFiles(spec);
                const init = fillPlaceholders(files.find((f) => f.path.endsWith("init.template.yaml"))!.content).split(PATCHES_DIR).join(path.join(dir, "patches"));
                fs.mkdirSync(path.join(dir, "patches"));
                fs.writeFileSync(path.join(dir, "init.yaml"), init);
                execFileSync(k8sBinary("kubeadm"), ["init", "phase", "control-plane", "all", "--config", path.join(dir, "init.yaml"), "--dry-run"], { env: { ...process.env, KUBEADM_INIT_DRYRUN_DIR: path.join(dir, "out") }, stdio: ["ignore", "pipe", "pipe"], timeout: 120_000 });
                return ["kube-controller-manager", "kube-scheduler"].map((pod) => {
                    const c = parseAllDocuments(fs.readFileSync(path.join(dir, "out", `${pod}.yaml`), "utf8"))[0].toJS().spec.containers[0];
                    return (c.command as string[]).filter((a) => a.startsWith("--leader-elect")).sort();
                });
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        };
        const tuned = ["--leader-elect-lease-duration=60s", "--leader-elect-renew-deadline=40s", "--leader-elect-retry-period=12s", "--leader-elect=true"];
        assert.deepStrictEqual(flags(variantSpec("customer-dc", (p) => (p.cluster.tuning = { controlPlaneLeaseSeconds: 60 }))), [tuned, tuned]);
        assert.deepStrictEqual(flags(exampleSpec("customer-dc")), [["--leader-elect=true"], ["--leader-elect=true"]]);
    });
});

describe("cluster.tuning.kubeVipLeaseSeconds", () => {
    it("sets kube-vip's lease, renew deadline and retry period (60 → 60 / 40 / 12); unset keeps 5 / 3 / 1", () => {
        const env = (spec: PlatformSpec) => {
            const files = firstControlPlaneFiles(spec);
            const pod = require("yaml").parse(files.find((f) => f.path.endsWith("kube-vip.yaml"))!.content);
            const e = Object.fromEntries(pod.spec.containers[0].env.filter((x: { value?: string }) => x.value !== undefined).map((x: { name: string; value: string }) => [x.name, x.value]));
            return [e.vip_leaseduration, e.vip_renewdeadline, e.vip_retryperiod];
        };
        assert.deepStrictEqual(env(variantSpec("customer-dc", (p) => (p.cluster.tuning = { kubeVipLeaseSeconds: 60 }))), ["60", "40", "12"]);
        assert.deepStrictEqual(env(exampleSpec("customer-dc")), ["5", "3", "1"]);
    });
});

describe("cluster.tuning.apiServerEtcdCheckSeconds", () => {
    it("kubeadm renders the API server with 15 s etcd health and readiness checks, flags the real kube-apiserver parses", function () {
        this.timeout(180_000);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gw-etcdcheck-"));
        try {
            const files = firstControlPlaneFiles(variantSpec("customer-dc", (p) => (p.cluster.tuning = { apiServerEtcdCheckSeconds: 15 })));
            fs.writeFileSync(path.join(dir, "init.yaml"), fillPlaceholders(files.find((f) => f.path.endsWith("init.template.yaml"))!.content));
            execFileSync(k8sBinary("kubeadm"), ["init", "phase", "control-plane", "apiserver", "--config", path.join(dir, "init.yaml"), "--dry-run"], { env: { ...process.env, KUBEADM_INIT_DRYRUN_DIR: path.join(dir, "out") }, stdio: ["ignore", "pipe", "pipe"], timeout: 120_000 });
            const command = parseAllDocuments(fs.readFileSync(path.join(dir, "out", "kube-apiserver.yaml"), "utf8"))[0].toJS().spec.containers[0].command as string[];
            const flags = command.filter((a) => /^--etcd-(health|ready)check-timeout=/.test(a)).sort();
            assert.deepStrictEqual(flags, ["--etcd-healthcheck-timeout=15s", "--etcd-readycheck-timeout=15s"]);
            // The real API server of the pinned minor knows both flags (a made-up one is refused the same way).
            const parse = (args: string[]) => spawnSync(k8sBinary("kube-apiserver"), [...args, "--version"], { encoding: "utf8", timeout: 60_000 });
            const ok = parse(flags);
            assert.strictEqual(ok.status, 0, ok.stderr);
            assert.match(ok.stdout, /^Kubernetes v1\.33\./);
            const bad = parse(["--etcd-healthcheck-timeoutt=15s"]);
            assert.notStrictEqual(bad.status, 0);
            assert.match(bad.stderr, /unknown flag: --etcd-healthcheck-timeoutt/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("cluster.certificates.keyAlgorithm", () => {
    /** The key type of certificates kubeadm makes from the rendered init config: `kubeadm init phase certs all` into a temp folder, read by openssl. */
    const keys = (spec: PlatformSpec) => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gw-keys-"));
        try {
            const files = firstControlPlaneFiles(spec);
            const docs = parseAllDocuments(fillPlaceholders(files.find((f) => f.path.endsWith("init.template.yaml"))!.content)).map((d) => d.toJS());
            docs.find((d) => d.kind === "ClusterConfiguration").certificatesDir = path.join(dir, "pki");
            fs.writeFileSync(path.join(dir, "init.yaml"), docs.map((d) => stringify(d)).join("---\n"));
            execFileSync(k8sBinary("kubeadm"), ["init", "phase", "certs", "all", "--config", path.join(dir, "init.yaml")], { stdio: ["ignore", "pipe", "pipe"], timeout: 120_000 });
            return Object.fromEntries(
                ["apiserver.key", "etcd/server.key", "front-proxy-client.key", "sa.key"].map((k) => {
                    const text = execFileSync("openssl", ["pkey", "-in", path.join(dir, "pki", k), "-noout", "-text"]).toString();
                    return [k, /NIST CURVE: (P-\d+)/.exec(text)?.[1] ?? /Private-Key: \((\d+) bit/.exec(text)?.[1] + "-bit RSA"];
                }),
            );
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    };

    it("ECDSA-P256: kubeadm makes the API server's, etcd's, the front proxy's and the service-account keys on P-256; unset, kubeadm's RSA-2048", function () {
        this.timeout(180_000);
        const ecdsa = keys(variantSpec("customer-dc", (p) => (p.cluster.certificates = { keyAlgorithm: "ECDSA-P256" })));
        assert.deepStrictEqual(ecdsa, { "apiserver.key": "P-256", "etcd/server.key": "P-256", "front-proxy-client.key": "P-256", "sa.key": "P-256" });
        const rsa = keys(exampleSpec("customer-dc"));
        assert.deepStrictEqual(rsa, { "apiserver.key": "2048-bit RSA", "etcd/server.key": "2048-bit RSA", "front-proxy-client.key": "2048-bit RSA", "sa.key": "2048-bit RSA" });
    });

    it("every value validate allows is one the real kubeadm accepts; another is refused, naming the key and the allowed values", function () {
        this.timeout(180_000);
        for (const alg of KEY_ALGORITHMS) {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gw-keys-"));
            try {
                const files = firstControlPlaneFiles(variantSpec("customer-dc", (p) => (p.cluster.certificates = { keyAlgorithm: alg })));
                fs.writeFileSync(path.join(dir, "init.yaml"), fillPlaceholders(files.find((f) => f.path.endsWith("init.template.yaml"))!.content));
                const r = spawnSync(k8sBinary("kubeadm"), ["config", "validate", "--config", path.join(dir, "init.yaml")], { encoding: "utf8", timeout: 60_000 });
                assert.strictEqual(r.status, 0, `${alg}: ${r.stderr}`);
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        }
        const doc = { "groundwork:platform": { ...require("yaml").parse(fs.readFileSync(path.resolve(__dirname, "../../stacks/Pulumi.customer-dc.yaml"), "utf8")).config["groundwork:platform"] } };
        doc["groundwork:platform"].cluster.certificates = { keyAlgorithm: "ECDSA-P521" };
        const r = loadStackFile(writeStackFile(doc));
        const problem = r.problems.find((p) => p.path === "platform.cluster.certificates.keyAlgorithm");
        assert.ok(problem, JSON.stringify(r.problems));
        assert.match(problem.message, /RSA-2048.*ECDSA-P256/);
    });
});
