/**
 * The cluster's images as the real tools see them: skopeo reads the archive and the layout
 * (verifying every digest) and reports names and configs; kubeadm says which images it pulls;
 * each image's root, unpacked from its layers, runs its programs under chroot — Debian 12's
 * iptables in nf_tables mode, the built Kubernetes binaries on the image's PATH.
 */
import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ClusterImages, ensureClusterImages } from "../../tools/images/cluster-images";
import { k8sBinary, runK8s } from "../support/kubernetes";

const skopeo = (...args: string[]) => execFileSync("skopeo", ["--insecure-policy", ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 1 << 26 });
const sha256sum = (file: string) => execFileSync("sha256sum", [file], { encoding: "utf8" }).split(" ")[0];

const PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/** Hand-checked: every image, its config, and where its binaries are (path in image → built binary). */
const IMAGES: Record<string, { config: { Entrypoint?: string[]; Cmd?: string[]; Env?: string[]; User?: string }; files: Record<string, string> }> = {
    "registry.k8s.io/kube-apiserver:v1.33.13": { config: { Env: [PATH] }, files: { "/usr/local/bin/kube-apiserver": "kube-apiserver" } },
    "registry.k8s.io/kube-controller-manager:v1.33.13": { config: { Env: [PATH] }, files: { "/usr/local/bin/kube-controller-manager": "kube-controller-manager" } },
    "registry.k8s.io/kube-scheduler:v1.33.13": { config: { Env: [PATH] }, files: { "/usr/local/bin/kube-scheduler": "kube-scheduler" } },
    "registry.k8s.io/kube-proxy:v1.33.13": { config: { Env: [PATH] }, files: { "/usr/local/bin/kube-proxy": "kube-proxy" } },
    "registry.k8s.io/etcd:3.5.21-0": { config: { Env: [PATH] }, files: { "/usr/local/bin/etcd": "etcd", "/usr/local/bin/etcdctl": "etcdctl" } },
    "registry.k8s.io/coredns/coredns:v1.12.1": { config: { Entrypoint: ["/coredns"], Env: [PATH] }, files: { "/coredns": "coredns" } },
    "registry.k8s.io/pause:3.10": { config: { Entrypoint: ["/pause"], User: "65535:65535" }, files: { "/pause": "pause" } },
    "ghcr.io/kube-vip/kube-vip:v0.9.1": { config: { Entrypoint: ["/kube-vip"] }, files: { "/kube-vip": "kube-vip" } },
    "ghcr.io/flannel-io/flannel:v0.28.4": { config: { Entrypoint: ["/opt/bin/flanneld"], Env: [PATH] }, files: { "/opt/bin/flanneld": "flanneld" } },
    "ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel1": { config: { Cmd: ["/bin/sh"], Env: [PATH] }, files: { "/flannel": "flannel" } },
};

describe("images: the cluster's images from the built binaries and Debian packages", function () {
    this.timeout(1_200_000);
    let built: ClusterImages;
    let work: string;
    let binDir: string;
    /** Manifest digests as skopeo read them from the archive after the first run. */
    const firstDigests: Record<string, string> = {};
    const names = () => Object.keys(IMAGES);
    const layoutRef = (layout: string, name: string) => `oci:${layout}:${name}`;
    const echo = (line: string) => process.stdout.write(`      ${line}\n`);

    /** An image's root folder: skopeo copies it out of `ref` (digests checked), its layers unpacked bottom first. */
    const unpack = (ref: string, label: string): string => {
        const copy = path.join(work, `copy-${label}`);
        const root = path.join(work, `root-${label}`);
        fs.rmSync(copy, { recursive: true, force: true });
        fs.rmSync(root, { recursive: true, force: true });
        skopeo("copy", ref, `dir:${copy}`);
        fs.mkdirSync(root, { mode: 0o700 }); // the layers' `./` entries must open it up
        const manifest = JSON.parse(fs.readFileSync(path.join(copy, "manifest.json"), "utf8")) as { layers: { digest: string }[] };
        for (const l of manifest.layers) execFileSync("tar", ["-xzf", path.join(copy, l.digest.slice("sha256:".length)), "-C", root]);
        return root;
    };
    /** Runs a command inside an image's root the way the runtime would: chroot, the image's PATH. */
    const inImage = (root: string, ...cmd: string[]) => execFileSync("chroot", [root, ...cmd], { encoding: "utf8", env: { PATH: PATH.slice(5) }, stdio: ["ignore", "pipe", "pipe"] });
    /** The same, stdout and stderr together, with extra environment (flanneld prints its version on stderr). */
    const inImageAll = (root: string, env: Record<string, string>, ...cmd: string[]) => {
        const r = spawnSync("chroot", [root, ...cmd], { encoding: "utf8", env: { PATH: PATH.slice(5), ...env }, stdio: ["ignore", "pipe", "pipe"] });
        assert.strictEqual(r.status, 0, `${cmd.join(" ")}: ${r.stderr}`);
        return r.stdout + r.stderr;
    };

    before(async () => {
        work = fs.mkdtempSync(path.join(os.tmpdir(), "gw-cluster-images-"));
        binDir = path.dirname(k8sBinary("kubeadm"));
        built = await ensureClusterImages({ log: echo });
        for (const n of names()) firstDigests[n] = JSON.parse(skopeo("inspect", `oci-archive:${built.tar}:${n}`)).Digest;
    });
    after(() => fs.rmSync(work, { recursive: true, force: true }));

    it("holds exactly kubeadm's images (per `kubeadm config images list` with our etcd/CoreDNS pins), kube-vip and flannel's two", () => {
        // A ClusterConfiguration pinning etcd and CoreDNS as groundwork's rendered one does (hand-written).
        const cfg = path.join(work, "cluster.yaml");
        fs.writeFileSync(cfg, "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nkubernetesVersion: v1.33.13\nimageRepository: registry.k8s.io\netcd:\n  local:\n    imageTag: 3.5.21-0\ndns:\n  imageTag: v1.12.1\n");
        const kubeadm = runK8s("kubeadm", ["config", "images", "list", "--config", cfg]).trim().split("\n");
        const expected = [...kubeadm, "ghcr.io/kube-vip/kube-vip:v0.9.1", "ghcr.io/flannel-io/flannel:v0.28.4", "ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel1"].sort();
        assert.deepStrictEqual(expected, [...names()].sort());
        // The archive's own index, read out of the tar.
        const index = JSON.parse(execFileSync("tar", ["-xOf", built.tar, "index.json"], { encoding: "utf8" })) as { manifests: { digest: string; annotations: Record<string, string> }[] };
        assert.deepStrictEqual(index.manifests.map((m) => m.annotations["org.opencontainers.image.ref.name"]).sort(), expected);
        // What the function reports is what skopeo reads.
        assert.deepStrictEqual(Object.fromEntries(built.images.map((i) => [i.name, i.digest])), firstDigests);
    });

    it("each image's config, as skopeo reads it from the layout: linux/amd64, entrypoint, environment, user", () => {
        for (const [name, want] of Object.entries(IMAGES)) {
            const cfg = JSON.parse(skopeo("inspect", "--config", layoutRef(built.dir, name))) as { architecture: string; os: string; config: Record<string, unknown> };
            assert.strictEqual(`${cfg.os}/${cfg.architecture}`, "linux/amd64", name);
            assert.deepStrictEqual(cfg.config, want.config, name);
        }
    });

    it("every binary in an image is the built one, byte for byte, and executable", () => {
        for (const [name, want] of Object.entries(IMAGES)) {
            const root = unpack(layoutRef(built.dir, name), "bytes");
            for (const [at, bin] of Object.entries(want.files)) {
                assert.strictEqual(sha256sum(path.join(root, at)), sha256sum(path.join(binDir, bin)), `${name}: ${at}`);
                assert.strictEqual(fs.statSync(path.join(root, at)).mode & 0o755, 0o755, `${name}: ${at} mode`);
            }
            // `/` readable by every user the image may run as (pause runs as 65535).
            assert.strictEqual(fs.statSync(root).mode & 0o777, 0o755, `${name}: / mode`);
        }
    });

    it("kube-proxy (from the archive): Debian 12's iptables in nf_tables mode, conntrack, and kube-proxy v1.33.13, run under chroot", () => {
        const root = unpack(`oci-archive:${built.tar}:registry.k8s.io/kube-proxy:v1.33.13`, "kube-proxy");
        for (const t of ["iptables", "iptables-save", "iptables-restore", "ip6tables", "ip6tables-save", "ip6tables-restore"]) {
            assert.strictEqual(path.relative(root, fs.realpathSync(path.join(root, "usr/sbin", t))), "usr/sbin/xtables-nft-multi", t);
        }
        assert.strictEqual(inImage(root, "/usr/sbin/iptables", "--version").trim(), "iptables v1.8.9 (nf_tables)");
        assert.strictEqual(inImage(root, "ip6tables-save", "--version").trim(), "ip6tables-save v1.8.9 (nf_tables)");
        assert.match(inImage(root, "conntrack", "--version"), /^conntrack v1\.4\.7 /);
        assert.strictEqual(inImage(root, "/usr/local/bin/kube-proxy", "--version").trim(), "Kubernetes v1.33.13");
        // Every library the netfilter tools load, as the image's own loader resolves it inside the root.
        assert.doesNotMatch(inImage(root, "/lib64/ld-linux-x86-64.so.2", "--list", "/usr/sbin/xtables-nft-multi"), /not found/);
        assert.ok(fs.statSync(path.join(root, "run")).isDirectory() && (fs.statSync(path.join(root, "tmp")).mode & 0o1777) === 0o1777);
    });

    it("control plane and etcd: the bare command kubeadm's static pods run is found on the image's PATH", () => {
        for (const c of ["kube-apiserver", "kube-controller-manager", "kube-scheduler"]) {
            const root = unpack(layoutRef(built.dir, `registry.k8s.io/${c}:v1.33.13`), c);
            assert.strictEqual(inImage(root, c, "--version").trim(), "Kubernetes v1.33.13", c);
        }
        const etcd = unpack(layoutRef(built.dir, "registry.k8s.io/etcd:3.5.21-0"), "etcd");
        assert.match(inImage(etcd, "etcd", "--version"), /^etcd Version: 3\.5\.21$/m);
        assert.match(inImage(etcd, "etcdctl", "version"), /^etcdctl version: 3\.5\.21$/m);
    });

    it("CoreDNS, kube-vip, pause and flanneld print their versions in their images; flannel's images run `cp` as the manifest's init containers do, and flannel's iptables is nf_tables", () => {
        const coredns = unpack(layoutRef(built.dir, "registry.k8s.io/coredns/coredns:v1.12.1"), "coredns");
        assert.match(inImage(coredns, "/coredns", "-version"), /^CoreDNS-1\.12\.1$/m);
        const vip = unpack(layoutRef(built.dir, "ghcr.io/kube-vip/kube-vip:v0.9.1"), "kube-vip");
        assert.match(inImage(vip, "/kube-vip", "version"), /^Version: +v0\.9\.1$/m);
        const pause = unpack(layoutRef(built.dir, "registry.k8s.io/pause:3.10"), "pause");
        assert.match(inImage(pause, "/pause", "-v"), /^pause\.c v3\.10\b/);
        const plugin = unpack(layoutRef(built.dir, "ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel1"), "plugin");
        fs.mkdirSync(path.join(plugin, "opt/cni/bin"), { recursive: true });
        inImage(plugin, "cp", "-f", "/flannel", "/opt/cni/bin/flannel");
        assert.strictEqual(sha256sum(path.join(plugin, "opt/cni/bin/flannel")), sha256sum(path.join(binDir, "flannel")));
        // The copied plugin answers the runtime's VERSION call (CNI spec 0.4.0, what containerd asks with flannel's conflist).
        assert.match(inImageAll(plugin, { CNI_COMMAND: "VERSION" }, "/opt/cni/bin/flannel"), /"supportedVersions":\[[^\]]*"0\.4\.0"/);
        const flannel = unpack(`oci-archive:${built.tar}:ghcr.io/flannel-io/flannel:v0.28.4`, "flannel");
        fs.mkdirSync(path.join(flannel, "etc/kube-flannel"), { recursive: true });
        fs.writeFileSync(path.join(flannel, "etc/kube-flannel/cni-conf.json"), "{}\n");
        fs.mkdirSync(path.join(flannel, "etc/cni/net.d"), { recursive: true });
        inImage(flannel, "cp", "-f", "/etc/kube-flannel/cni-conf.json", "/etc/cni/net.d/10-flannel.conflist");
        assert.strictEqual(fs.readFileSync(path.join(flannel, "etc/cni/net.d/10-flannel.conflist"), "utf8"), "{}\n");
        assert.strictEqual(inImage(flannel, "iptables", "--version").trim(), "iptables v1.8.9 (nf_tables)");
        assert.strictEqual(inImageAll(flannel, {}, "/opt/bin/flanneld", "--version").trim(), "v0.28.4");
    });

    it("a second run is a cache hit; a rebuild in an empty cache yields the same digests and the same archive bytes", async () => {
        const mtime = fs.statSync(built.tar).mtimeMs;
        const again = await ensureClusterImages({ log: () => undefined });
        assert.strictEqual(again.cached, true);
        assert.strictEqual(again.tar, built.tar);
        assert.strictEqual(fs.statSync(built.tar).mtimeMs, mtime);
        for (const n of names()) assert.strictEqual(JSON.parse(skopeo("inspect", layoutRef(again.dir, n))).Digest, firstDigests[n], n);
        const fresh = await ensureClusterImages({ cacheDir: path.join(work, "cache"), log: echo });
        assert.strictEqual(fresh.cached, false);
        assert.strictEqual(fresh.key, built.key);
        for (const n of names()) assert.strictEqual(JSON.parse(skopeo("inspect", `oci-archive:${fresh.tar}:${n}`)).Digest, firstDigests[n], n);
        assert.strictEqual(sha256sum(fresh.tar), sha256sum(built.tar));
    });

    it("a missing binary fails before anything is built, with one line naming it and the build.sh component that makes it", async () => {
        const partial = path.join(work, "bin");
        fs.mkdirSync(partial);
        for (const f of fs.readdirSync(binDir)) if (f !== "kube-scheduler") fs.symlinkSync(fs.realpathSync(path.join(binDir, f)), path.join(partial, f));
        const cacheDir = path.join(work, "never");
        await assert.rejects(ensureClusterImages({ binDir: partial, cacheDir, log: () => undefined }), (e: Error) => {
            assert.strictEqual(e.message, `tools/images/cluster-images.ts: kube-scheduler is missing from ${partial}: build it with tools/kubernetes/build.sh kubernetes-v1.33.13`);
            return true;
        });
        assert.strictEqual(fs.existsSync(cacheDir), false);
    });
});
