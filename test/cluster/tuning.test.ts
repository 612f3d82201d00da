/**
 * cluster.tuning, for slow machines only: kubeadm itself applies the rendered patches to the
 * control-plane static pods (`kubeadm init phase control-plane --dry-run` with the rendered init
 * config), and a stack without tuning renders neither timeouts nor patches.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseAllDocuments } from "yaml";
import { CLUSTER_PROVIDER, engineInputs } from "../../cli/commands/render";
import { PATCHES_DIR } from "../../components/cluster/kubeadm";
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
