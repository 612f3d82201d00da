/**
 * What a real cluster's nodes install, built here: the Kubernetes binaries from Go modules
 * (tools/kubernetes/build.sh) and the Debian packages made from them with pkgs.k8s.io's names and
 * versions (tools/packages/kubernetes-debs.ts), as a flat apt repository cached under
 * $GROUNDWORK_CACHE/kubernetes/debs-<key>/ (key: the binaries' digests and the versions).
 */
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { kubernetesMinor, PACKAGE_REVISION } from "../../components/cluster/versions";
import { buildKubernetesRepository, indexFlatRepository, KubernetesBinaries, KubernetesDebVersions } from "../../tools/packages/kubernetes-debs";

const REPO = path.resolve(__dirname, "../..");
const CACHE = process.env.GROUNDWORK_CACHE ?? path.join(os.homedir(), ".cache", "groundwork");

/** The CNI plugins kubernetes-cni ships (the flannel plugin comes with flannel's own image). */
export const CNI_PLUGINS = ["bridge", "host-local", "loopback", "portmap"];

/**
 * Builds every row of tools/kubernetes/build.sh (a cache hit after the first run); returns the bin
 * folder. With `next`, the upgrade target's rows too (build.sh --next: Kubernetes 1.34 with its
 * etcd, CNI plugins and pause over the same tools), and returns their folder, bin-next.
 */
export function ensureKubernetesBinaries(opts: { next?: boolean } = {}): string {
    execFileSync("bash", [path.join(REPO, "tools/kubernetes/build.sh"), ...(opts.next ? ["--next"] : [])], { stdio: ["ignore", "ignore", "inherit"], timeout: 3 * 3600_000 });
    return path.join(CACHE, "kubernetes", opts.next ? "bin-next" : "bin");
}

/** The flat repository (kubeadm, kubelet, kubectl, cri-tools, kubernetes-cni) for `version`, built once per key. */
export function ensureKubernetesRepository(version: string, binDir: string): { dir: string; versions: KubernetesDebVersions; debs: string[] } {
    const minor = kubernetesMinor(version);
    if (!minor) throw new Error(`no row for Kubernetes ${version} in components/cluster/versions.ts KUBERNETES_MINORS`);
    const versions = { kubernetes: `${version}${PACKAGE_REVISION}`, criTools: minor.criTools, kubernetesCni: minor.kubernetesCni };
    const bin = (name: string) => {
        const f = path.join(binDir, name);
        if (!fs.existsSync(f)) throw new Error(`${f} is missing: run tools/kubernetes/build.sh`);
        return f;
    };
    const binaries: KubernetesBinaries = {
        kubeadm: bin("kubeadm"),
        kubelet: bin("kubelet"),
        kubectl: bin("kubectl"),
        crictl: bin("crictl"),
        cniPlugins: Object.fromEntries(CNI_PLUGINS.map((p) => [p, bin(p)])),
    };
    const h = createHash("sha256").update(JSON.stringify(versions));
    for (const f of [binaries.kubeadm, binaries.kubelet, binaries.kubectl, binaries.crictl, ...Object.values(binaries.cniPlugins)]) h.update(fs.readFileSync(f));
    h.update(fs.readFileSync(path.join(REPO, "tools/packages/kubernetes-debs.ts")));
    const dir = path.join(CACHE, "kubernetes", `debs-${h.digest("hex").slice(0, 16)}`);
    if (!fs.existsSync(path.join(dir, "complete"))) {
        const tmp = `${dir}.tmp`;
        fs.rmSync(tmp, { recursive: true, force: true });
        buildKubernetesRepository(versions, binaries, tmp);
        fs.writeFileSync(path.join(tmp, "complete"), "");
        fs.rmSync(dir, { recursive: true, force: true });
        fs.renameSync(tmp, dir);
    }
    const debs = fs.readdirSync(dir).filter((f) => f.endsWith(".deb")).sort().map((f) => path.join(dir, f));
    return { dir, versions, debs };
}

/**
 * One flat apt repository holding the packages of several (each folder's *.deb), indexed anew:
 * nodes installed at one version find the next one beside it. A package file in two folders must
 * be the same bytes (cri-tools is in both versions' sets).
 */
export function mergeRepositories(dirs: string[], out: string): string[] {
    fs.rmSync(out, { recursive: true, force: true });
    fs.mkdirSync(out, { recursive: true });
    const from = new Map<string, string>();
    for (const dir of dirs) {
        for (const f of fs.readdirSync(dir).filter((x) => x.endsWith(".deb"))) {
            const file = path.join(dir, f);
            const seen = from.get(f);
            if (seen && !fs.readFileSync(seen).equals(fs.readFileSync(file))) throw new Error(`${f} differs between ${path.dirname(seen)} and ${dir}`);
            if (!seen) fs.copyFileSync(file, path.join(out, f));
            from.set(f, file);
        }
    }
    indexFlatRepository(out);
    return [...from.keys()].sort();
}
