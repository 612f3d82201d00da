/**
 * Debian packages of Kubernetes with the names, versions and file layout pkgs.k8s.io uses, built
 * from binaries made here — so a node's rendered bootstrap installs them unchanged from the
 * host's mirror (`cluster.packageSource: mirror`): kubeadm, kubelet, kubectl, cri-tools,
 * kubernetes-cni. Built with dpkg-deb, owned by root, files dated at the epoch: same binaries →
 * same packages.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** Versions as pkgs.k8s.io writes them, e.g. `1.33.13-1.1`. */
export interface KubernetesDebVersions {
    kubernetes: string;
    criTools: string;
    kubernetesCni: string;
}

/** Where the binaries are: one path per file each package ships. */
export interface KubernetesBinaries {
    kubeadm: string;
    kubelet: string;
    kubectl: string;
    crictl: string;
    /** CNI plugin name → binary (installed under /opt/cni/bin). */
    cniPlugins: Record<string, string>;
}

interface DebSpec {
    name: string;
    version: string;
    depends: string[];
    description: string;
    /** Path in the package → source file (or literal content) and mode. */
    files: Record<string, { src?: string; content?: string; mode: number }>;
}

/** The kubelet unit pkgs.k8s.io ships: kubeadm's drop-in gives it its flags. */
const KUBELET_SERVICE = `[Unit]
Description=kubelet: The Kubernetes Node Agent
Documentation=https://kubernetes.io/docs/
Wants=network-online.target
After=network-online.target

[Service]
ExecStart=/usr/bin/kubelet
Restart=always
StartLimitInterval=0
RestartSec=10

[Install]
WantedBy=multi-user.target
`;

/** kubeadm's kubelet drop-in: the bootstrap kubeconfig, the config kubeadm writes, and the flags file it writes at init/join. */
const KUBEADM_DROPIN = `[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
`;

/**
 * The dependencies pkgs.k8s.io's packages declare (kubernetes/release, cmd/krel/templates/latest/
 * metadata.yaml): kubeadm 1.32 and later declares none, 1.30–1.31 only cri-tools (>= 1.30.0);
 * kubelet 1.28 and later kubernetes-cni (>= 1.2.0). Floors, never the minor's own versions: a
 * node upgrades the kubeadm way, kubeadm first with kubelet, kubectl and the CNI plugins still at
 * the old minor (held), which a kubeadm requiring the new kubelet would make impossible.
 */
function kubeadmDepends(kubernetes: string): string[] {
    const [major, minor] = kubernetes.split(".").map(Number);
    return major === 1 && minor < 32 ? ["cri-tools (>= 1.30.0)"] : [];
}

export function debSpecs(v: KubernetesDebVersions, b: KubernetesBinaries): DebSpec[] {
    const cni = Object.fromEntries(Object.entries(b.cniPlugins).map(([n, src]) => [`/opt/cni/bin/${n}`, { src, mode: 0o755 }]));
    return [
        { name: "kubeadm", version: v.kubernetes, depends: kubeadmDepends(v.kubernetes), description: "Kubernetes Cluster Bootstrapping Tool", files: { "/usr/bin/kubeadm": { src: b.kubeadm, mode: 0o755 }, "/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf": { content: KUBEADM_DROPIN, mode: 0o644 } } },
        { name: "kubelet", version: v.kubernetes, depends: ["iptables (>= 1.4.21)", "iproute2", "mount", "kubernetes-cni (>= 1.2.0)"], description: "Kubernetes Node Agent", files: { "/usr/bin/kubelet": { src: b.kubelet, mode: 0o755 }, "/usr/lib/systemd/system/kubelet.service": { content: KUBELET_SERVICE, mode: 0o644 } } },
        { name: "kubectl", version: v.kubernetes, depends: [], description: "Kubernetes Command Line Tool", files: { "/usr/bin/kubectl": { src: b.kubectl, mode: 0o755 } } },
        { name: "cri-tools", version: v.criTools, depends: [], description: "Command-line utility for interacting with a container runtime", files: { "/usr/bin/crictl": { src: b.crictl, mode: 0o755 } } },
        { name: "kubernetes-cni", version: v.kubernetesCni, depends: [], description: "Binaries required to provision kubernetes container networking", files: cni },
    ];
}

/** Builds one package into `outDir`; returns the .deb's path (`<name>_<version>_amd64.deb`). */
export function buildDeb(spec: DebSpec, outDir: string): string {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), `gw-deb-${spec.name}-`));
    try {
        let installedKiB = 0;
        for (const [dst, f] of Object.entries(spec.files)) {
            const target = path.join(root, dst);
            fs.mkdirSync(path.dirname(target), { recursive: true });
            if (f.src !== undefined) fs.copyFileSync(fs.realpathSync(f.src), target);
            else fs.writeFileSync(target, f.content ?? "");
            fs.chmodSync(target, f.mode);
            installedKiB += Math.ceil(fs.statSync(target).size / 1024);
        }
        fs.mkdirSync(path.join(root, "DEBIAN"));
        const control = [
            `Package: ${spec.name}`,
            `Version: ${spec.version}`,
            "Architecture: amd64",
            "Maintainer: groundwork <groundwork@localhost>",
            `Installed-Size: ${installedKiB}`,
            ...(spec.depends.length > 0 ? [`Depends: ${spec.depends.join(", ")}`] : []),
            "Section: admin",
            "Priority: optional",
            "Homepage: https://kubernetes.io",
            `Description: ${spec.description}`,
            ` Built by groundwork from the upstream Go modules, laid out as pkgs.k8s.io's package.`,
            "",
        ].join("\n");
        fs.writeFileSync(path.join(root, "DEBIAN", "control"), control);
        execFileSync("find", [root, "-exec", "touch", "-h", "-d", "@0", "{}", "+"]);
        fs.mkdirSync(outDir, { recursive: true });
        const out = path.join(outDir, `${spec.name}_${spec.version}_amd64.deb`);
        execFileSync("dpkg-deb", ["--root-owner-group", "-Zxz", "--build", root, out], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, SOURCE_DATE_EPOCH: "0" } });
        return out;
    } finally {
        fs.rmSync(root, { recursive: true, force: true });
    }
}

/** Every package, plus a flat apt repository index (`deb URL/ /`, as pkgs.k8s.io serves) in `outDir`. */
export function buildKubernetesRepository(v: KubernetesDebVersions, b: KubernetesBinaries, outDir: string): string[] {
    const debs = debSpecs(v, b).map((s) => buildDeb(s, outDir));
    indexFlatRepository(outDir);
    return debs;
}

/** Writes the flat repository index (Packages, Release) of the .deb files in `dir`. */
export function indexFlatRepository(dir: string): void {
    fs.writeFileSync(path.join(dir, "Packages"), execFileSync("apt-ftparchive", ["packages", "."], { cwd: dir }));
    fs.writeFileSync(path.join(dir, "Release"), execFileSync("apt-ftparchive", ["release", "."], { cwd: dir }));
}
