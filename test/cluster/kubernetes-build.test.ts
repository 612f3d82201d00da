import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { k8sBinary, runK8s } from "../support/kubernetes";

const run = promisify(execFile);
const SCRIPT = path.resolve(__dirname, "..", "..", "tools", "kubernetes", "build.sh");

async function build(env: Record<string, string>, args: string[] = []): Promise<{ code: number; stdout: string; stderr: string; seconds: number }> {
    const t0 = Date.now();
    try {
        const r = await run("bash", [SCRIPT, ...args], { env: { ...process.env, ...env }, timeout: 120_000 });
        return { code: 0, stdout: r.stdout, stderr: r.stderr, seconds: (Date.now() - t0) / 1000 };
    } catch (e) {
        const err = e as { code?: number; stdout?: string; stderr?: string };
        return { code: err.code ?? -1, stdout: err.stdout ?? "", stderr: err.stderr ?? "", seconds: (Date.now() - t0) / 1000 };
    }
}

describe("tools/kubernetes/build.sh (Kubernetes from Go modules)", function () {
    this.timeout(180_000);

    it("a second run reuses every cached build and prints each binary's size", async () => {
        // --check builds nothing: a missing build fails here (tools/test.sh builds before the unit stage) instead of starting one.
        const check = await build({}, ["--check"]);
        assert.strictEqual(check.code, 0, check.stderr);
        const r = await build({});
        assert.strictEqual(r.code, 0, r.stderr);
        assert.match(r.stdout, /kubernetes-v1\.33\.13: cached/);
        assert.match(r.stdout, /etcd-v3\.5\.21: cached/);
        for (const bin of ["kubeadm", "kubectl", "kube-apiserver", "kubelet", "kube-controller-manager", "kube-scheduler", "kube-proxy", "etcd", "etcdctl"]) {
            assert.match(r.stdout, new RegExp(`^  ${bin} +\\d+ MiB$`, "m"), bin);
        }
        assert.ok(r.seconds < 30, `cached run took ${r.seconds}s`);
    });

    it("stamps the versions kubeadm and etcd report, and links static binaries", () => {
        assert.strictEqual(runK8s("kubeadm", ["version", "-o", "short"]).trim(), "v1.33.13");
        assert.match(runK8s("kubectl", ["version", "--client", "-o", "json"]), /"gitVersion": "v1\.33\.13"/);
        assert.match(runK8s("kube-apiserver", ["--version"]), /^Kubernetes v1\.33\.13$/m);
        assert.match(runK8s("etcd", ["--version"]), /^etcd Version: 3\.5\.21$/m);
        assert.match(runK8s("etcdctl", ["version"]), /^etcdctl version: 3\.5\.21$/m);
        // CGO_ENABLED=0: no ELF interpreter, so the binaries run on any node.
        const head = fs.readFileSync(k8sBinary("kubeadm")).subarray(0, 4096).toString("latin1");
        assert.ok(!head.includes("ld-linux"), "kubeadm is statically linked");
    });

    it("a module the proxy refuses ends the build with one line naming module@version and what to do", async () => {
        const server = http.createServer((_req, res) => res.writeHead(403).end("forbidden\n"));
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        const cache = fs.mkdtempSync(path.join(os.tmpdir(), "gw-k8s-refused-"));
        try {
            const port = (server.address() as AddressInfo).port;
            const r = await build({ GROUNDWORK_CACHE: cache, GOPROXY: `http://127.0.0.1:${port}` }, ["kubernetes-v1.33.13"]);
            assert.strictEqual(r.code, 1);
            const lines = r.stderr.trim().split("\n");
            assert.strictEqual(lines.length, 1, r.stderr);
            assert.strictEqual(
                lines[0],
                `tools/kubernetes/build.sh: the Go module proxy http://127.0.0.1:${port} refused k8s.io/kubernetes@v1.33.13 (403 Forbidden) while building kubernetes-v1.33.13: pick a version it serves (shared/recipes/go-modules-served.md) in the TABLE of tools/kubernetes/build.sh, or point GOPROXY at a proxy that has it`,
            );
            assert.ok(!fs.existsSync(path.join(cache, "kubernetes", "bin", "kubeadm")), "nothing half-built is linked");
        } finally {
            server.close();
            fs.rmSync(cache, { recursive: true, force: true });
        }
    });

    it("--check names what is not built, without building it", async () => {
        const cache = fs.mkdtempSync(path.join(os.tmpdir(), "gw-k8s-check-"));
        try {
            const r = await build({ GROUNDWORK_CACHE: cache }, ["--check", "etcd-v3.5.21"]);
            assert.strictEqual(r.code, 1);
            assert.strictEqual(r.stderr.trim(), "tools/kubernetes/build.sh: etcd-v3.5.21 is not built under its current key; run tools/kubernetes/build.sh");
            assert.deepStrictEqual(fs.readdirSync(path.join(cache, "kubernetes", "build")), []);
        } finally {
            fs.rmSync(cache, { recursive: true, force: true });
        }
    });

    it("refuses an unknown component with the list of known ones", async () => {
        const r = await build({}, ["coredns-v1.12.1"]);
        assert.strictEqual(r.code, 1);
        assert.strictEqual(r.stderr.trim(), "tools/kubernetes/build.sh: unknown component 'coredns-v1.12.1'; components: kubernetes-v1.33.13 etcd-v3.5.21");
    });
});
