import * as assert from "assert";
import { execFile, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { k8sBinary, runK8s } from "../support/kubernetes";

const run = promisify(execFile);
const SCRIPT = path.resolve(__dirname, "..", "..", "tools", "kubernetes", "build.sh");

/** What tools/kubernetes/build.sh must build: component → binaries. */
const COMPONENTS: Record<string, string[]> = {
    "kubernetes-v1.33.13": ["kubeadm", "kubectl", "kube-apiserver", "kubelet", "kube-controller-manager", "kube-scheduler", "kube-proxy"],
    "etcd-v3.5.21": ["etcd", "etcdctl"],
    "coredns-v1.12.1": ["coredns"],
    "kube-vip-v0.9.1": ["kube-vip"],
    "flannel-v0.28.4": ["flanneld"],
    "cni-plugins-v1.6.2": ["bridge", "host-local", "loopback", "portmap"],
    "cni-flannel-v0.9.1": ["flannel"],
    "cri-tools-v1.34.0": ["crictl"],
    // The workload images' programs (tools/images/workload-images.ts).
    "http-echo-v1.0.0": ["http-echo"],
    "nats-server-v2.15.2": ["nats-server"],
    "pause-3.10": ["pause"],
};
const BINARIES = Object.values(COMPONENTS).flat();

/** A built binary's exit code, stdout and stderr (some tools print their version on stderr); stdin is `input`, or none. */
function runBin(name: string, args: string[], env: Record<string, string> = {}, input?: string): { code: number | null; stdout: string; stderr: string } {
    // Input comes from a file, not a pipe: a plugin that answers without reading all of it must not
    // make the write fail (EPIPE), as it did under load.
    let fd: number | undefined;
    let file: string | undefined;
    if (input !== undefined) {
        file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "gw-bin-in-")), "stdin");
        fs.writeFileSync(file, input);
        fd = fs.openSync(file, "r");
    }
    try {
        const r = spawnSync(k8sBinary(name), args, { env: { ...process.env, ...env }, stdio: [fd ?? "ignore", "pipe", "pipe"], encoding: "utf8", timeout: 60_000 });
        if (r.error) throw r.error;
        return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    } finally {
        if (fd !== undefined) fs.closeSync(fd);
        if (file) fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
}

/**
 * What the ELF headers say, read here rather than asked of the build: an interpreter (PT_INTERP)
 * or a dynamic section (PT_DYNAMIC) means a dynamically linked binary; a symbol table (SHT_SYMTAB)
 * means an unstripped one.
 */
function elfFacts(file: string): { interp: boolean; dynamic: boolean; symtab: boolean } {
    const fd = fs.openSync(file, "r");
    try {
        const read = (offset: number, length: number) => {
            const b = Buffer.alloc(length);
            fs.readSync(fd, b, 0, length, offset);
            return b;
        };
        const h = read(0, 64);
        assert.strictEqual(h.toString("latin1", 0, 4), "\x7fELF", `${file} is not ELF`);
        assert.strictEqual(h[4], 2, `${file} is not 64-bit ELF`);
        assert.strictEqual(h[5], 1, `${file} is not little-endian`);
        const phoff = Number(h.readBigUInt64LE(0x20));
        const shoff = Number(h.readBigUInt64LE(0x28));
        const [phentsize, phnum, shentsize, shnum] = [h.readUInt16LE(0x36), h.readUInt16LE(0x38), h.readUInt16LE(0x3a), h.readUInt16LE(0x3c)];
        const ph = read(phoff, phentsize * phnum);
        const types = Array.from({ length: phnum }, (_, i) => ph.readUInt32LE(i * phentsize));
        const sh = read(shoff, shentsize * shnum);
        const sectionTypes = Array.from({ length: shnum }, (_, i) => sh.readUInt32LE(i * shentsize + 4));
        return { interp: types.includes(3), dynamic: types.includes(2), symtab: sectionTypes.includes(2) };
    } finally {
        fs.closeSync(fd);
    }
}

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
        for (const name of Object.keys(COMPONENTS)) assert.match(r.stdout, new RegExp(`${name.replace(/\./g, "\\.")}: cached`), name);
        for (const bin of BINARIES) {
            assert.match(r.stdout, new RegExp(`^  ${bin} +\\d+ MiB$`, "m"), bin);
        }
        assert.ok(r.seconds < 30, `cached run took ${r.seconds}s`);
    });

    it("stamps the versions kubeadm and etcd report", () => {
        assert.strictEqual(runK8s("kubeadm", ["version", "-o", "short"]).trim(), "v1.33.13");
        assert.match(runK8s("kubectl", ["version", "--client", "-o", "json"]), /"gitVersion": "v1\.33\.13"/);
        assert.match(runK8s("kube-apiserver", ["--version"]), /^Kubernetes v1\.33\.13$/m);
        assert.match(runK8s("etcd", ["--version"]), /^etcd Version: 3\.5\.21$/m);
        assert.match(runK8s("etcdctl", ["version"]), /^etcdctl version: 3\.5\.21$/m);
    });

    it("stamps the versions CoreDNS, kube-vip, flanneld, crictl and pause report", () => {
        // CoreDNS names its version itself; the commit is GitCommit, as upstream's Makefile sets it (the v1.12.1 tag's commit).
        const coredns = runK8s("coredns", ["-version"]);
        assert.match(coredns, /^CoreDNS-1\.12\.1$/m);
        assert.match(coredns, /^linux\/amd64, go[\d.]+, 707c7c1$/m);
        const vip = runK8s("kube-vip", ["version"]);
        assert.match(vip, /^Version: +v0\.9\.1$/m);
        assert.match(vip, /^Build: +a71d361d15344928be77a867c86745c5680cff14$/m);
        // flanneld prints its version on stderr.
        const flanneld = runBin("flanneld", ["--version"]);
        assert.strictEqual(flanneld.code, 0, flanneld.stderr);
        assert.strictEqual(flanneld.stderr.trim(), "v0.28.4");
        assert.strictEqual(runK8s("crictl", ["--version"]).trim(), "crictl version v1.34.0");
        assert.strictEqual(runK8s("pause", ["-v"]).trim(), "pause.c v3.10-groundwork");
    });

    it("the CNI plugins answer the CNI VERSION command and name their release", () => {
        for (const plugin of ["bridge", "host-local", "loopback", "portmap"]) {
            const v = runBin(plugin, [], { CNI_COMMAND: "VERSION" }, '{"cniVersion":"1.0.0"}');
            assert.strictEqual(v.code, 0, `${plugin}: ${v.stderr}`);
            const info = JSON.parse(v.stdout) as { cniVersion: string; supportedVersions: string[] };
            assert.ok(info.supportedVersions.includes("1.0.0"), `${plugin} supports CNI 1.0.0: ${v.stdout}`);
            // Without CNI_COMMAND a plugin prints what it is (buildversion.BuildVersion, stamped by the build).
            assert.match(runBin(plugin, []).stderr, new RegExp(`^CNI ${plugin} plugin v1\\.6\\.2$`, "m"), plugin);
        }
        // The flannel meta plugin comes from containernetworking/plugins v0.9.1 (flannel-io/cni-plugin is
        // not served): it speaks CNI up to 0.4.0 only, so its network config must say cniVersion 0.4.0 or older.
        // Its skel answers VERSION without reading stdin.
        const flannel = runBin("flannel", [], { CNI_COMMAND: "VERSION" });
        assert.strictEqual(flannel.code, 0, flannel.stderr);
        assert.deepStrictEqual(JSON.parse(flannel.stdout), { cniVersion: "0.4.0", supportedVersions: ["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0"] });
        assert.match(runBin("flannel", []).stderr, /^CNI flannel plugin v0\.9\.1$/m);
    });

    it("every binary is static and stripped", () => {
        // CGO_ENABLED=0 (gcc -static for pause): no ELF interpreter and no dynamic section, so the binaries run on any node.
        for (const bin of BINARIES) {
            const elf = elfFacts(k8sBinary(bin));
            assert.deepStrictEqual(elf, { interp: false, dynamic: false, symtab: false }, bin);
        }
    });

    it("a module the proxy refuses ends the build with one line naming module@version and what to do", async () => {
        const server = http.createServer((_req, res) => res.writeHead(403).end("forbidden\n"));
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        const cache = fs.mkdtempSync(path.join(os.tmpdir(), "gw-k8s-refused-"));
        try {
            const port = (server.address() as AddressInfo).port;
            // One row of each kind of builder: the kubernetes wrapper, a plain Go module, pause from the kubernetes module.
            for (const [component, asked, bin] of [
                ["kubernetes-v1.33.13", "k8s.io/kubernetes@v1.33.13", "kubeadm"],
                ["coredns-v1.12.1", "github.com/coredns/coredns@v1.12.1", "coredns"],
                ["pause-3.10", "k8s.io/kubernetes@v1.33.13", "pause"],
            ]) {
                const r = await build({ GROUNDWORK_CACHE: cache, GOPROXY: `http://127.0.0.1:${port}` }, [component]);
                assert.strictEqual(r.code, 1, component);
                const lines = r.stderr.trim().split("\n");
                assert.strictEqual(lines.length, 1, r.stderr);
                assert.strictEqual(
                    lines[0],
                    `tools/kubernetes/build.sh: the Go module proxy http://127.0.0.1:${port} refused ${asked} (403 Forbidden) while building ${component}: pick a version it serves (shared/recipes/go-modules-served.md) in the TABLE of tools/kubernetes/build.sh, or point GOPROXY at a proxy that has it`,
                );
                assert.ok(!fs.existsSync(path.join(cache, "kubernetes", "bin", bin)), `nothing half-built is linked (${bin})`);
            }
        } finally {
            server.close();
            fs.rmSync(cache, { recursive: true, force: true });
        }
    });

    it("a component's key covers its own row and builder only: a new row and builder rebuild nothing else, a changed row only itself", async () => {
        // A copy of build.sh (and env.sh beside it) with one more builder and row, then with CoreDNS's row changed,
        // asked with --check against the cache the unit stage built.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gw-k8s-key-"));
        try {
            const script = path.join(dir, "build.sh");
            fs.copyFileSync(path.join(path.dirname(SCRIPT), "env.sh"), path.join(dir, "env.sh"));
            const original = fs.readFileSync(SCRIPT, "utf8");
            const pauseRow = original.split("\n").find((l) => l.trimStart().startsWith('"pause-3.10|'));
            assert.ok(pauseRow, "build.sh has a pause-3.10 row");
            const added = original
                .replace(pauseRow, `${pauseRow}\n  "extra-v0.0.1|extra|example.com/extra|v0.0.1|extra=.|-X main.Version={version}"`)
                .replace("\nbuild_component() {", '\nextra_wrapper() { download "$2" "$3" Dir >/dev/null; }\nextra_build() { go_build "$1" "$2" "$5" "$7"; }\n\nbuild_component() {');
            assert.notStrictEqual(added, original);
            fs.writeFileSync(script, added);
            const check = async (components: string[]) => {
                try {
                    await run("bash", [script, "--check", ...components], { env: process.env, timeout: 60_000 });
                    return { code: 0, stderr: "" };
                } catch (e) {
                    const err = e as { code?: number; stderr?: string };
                    return { code: err.code ?? -1, stderr: err.stderr ?? "" };
                }
            };
            const all = Object.keys(COMPONENTS);
            const withRow = await check(all);
            assert.strictEqual(withRow.code, 0, withRow.stderr);
            assert.strictEqual((await check(["extra-v0.0.1"])).code, 1, "the new row is not built");

            fs.writeFileSync(script, added.replace("coremain.GitCommit={commit7}", "coremain.GitCommit={commit}"));
            const changed = await check(all);
            assert.strictEqual(changed.code, 1);
            assert.strictEqual(changed.stderr.trim(), "tools/kubernetes/build.sh: coredns-v1.12.1 is not built under its current key; run tools/kubernetes/build.sh");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
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
        const r = await build({}, ["coredns-v1.11.3"]);
        assert.strictEqual(r.code, 1);
        assert.strictEqual(r.stderr.trim(), `tools/kubernetes/build.sh: unknown component 'coredns-v1.11.3'; components: ${Object.keys(COMPONENTS).join(" ")}; the upgrade target's: kubernetes-v1.34.4 etcd-v3.6.4 cni-plugins-v1.7.1 pause-3.10.1`);
    });
});
