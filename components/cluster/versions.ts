import { ClusterConfig, CniKind } from "./config";

/**
 * Every version the cluster layer pins, in one place: Kubernetes minors it knows, the images
 * kubeadm pulls for them, the add-on charts and the images those charts run. `groundwork bom`
 * reads them through clusterBillOfMaterials, so a mirror can be filled before an air-gapped run.
 */

/**
 * The component versions of one Kubernetes minor: the images kubeadm pulls besides the
 * control-plane ones and the apt pins beside kubeadm. The rendered ClusterConfiguration pins
 * `etcd.local.imageTag` and `dns.imageTag` from here (not kubeadm's compiled-in defaults), so the
 * bill of materials, the mirror and what kubeadm pulls are the same list for every patch release.
 */
export interface KubernetesMinor {
    /** etcd image tag (`etcd.local.imageTag`). */
    etcd: string;
    /** CoreDNS image tag (`dns.imageTag`). */
    coredns: string;
    /** pause image tag: kubeadm's and containerd's sandbox image. */
    pause: string;
    /** pkgs.k8s.io versions of the tools kubeadm depends on. */
    criTools: string;
    kubernetesCni: string;
}

/**
 * One row per minor groundwork knows. 1.33 and 1.34 pin etcd and CoreDNS to releases built here
 * from Go modules (tools/kubernetes/build.sh): kubeadm v1.33.13's own defaults (etcd 3.5.24-0,
 * CoreDNS v1.12.0) are not served by the Go module proxy. 1.33's cri-tools and kubernetes-cni are
 * the versions built there too: cri-tools v1.33.0 is not served (v1.34.0 is, and crictl talks to any
 * CRI v1 runtime), and the CNI plugins are v1.6.2.
 */
export const KUBERNETES_MINORS: Record<string, KubernetesMinor> = {
    "1.31": { etcd: "3.5.15-0", coredns: "v1.11.3", pause: "3.10", criTools: "1.31.1-1.1", kubernetesCni: "1.5.1-1.1" },
    "1.32": { etcd: "3.5.16-0", coredns: "v1.11.3", pause: "3.10", criTools: "1.32.0-1.1", kubernetesCni: "1.6.0-1.1" },
    "1.33": { etcd: "3.5.21-0", coredns: "v1.12.1", pause: "3.10", criTools: "1.34.0-1.1", kubernetesCni: "1.6.2-1.1" },
    "1.34": { etcd: "3.6.4-0", coredns: "v1.12.1", pause: "3.10.1", criTools: "1.34.0-1.1", kubernetesCni: "1.7.1-1.1" },
};

/** pkgs.k8s.io revision appended to the upstream version (`1.33.5` → `1.33.5-1.1`). */
export const PACKAGE_REVISION = "-1.1";

/** kube-vip from its own registry (ghcr.io); v0.9.1 is the release the Go module proxy serves with a checksum. */
export const KUBE_VIP_IMAGE = "ghcr.io/kube-vip/kube-vip:v0.9.1";
export const DEFAULT_IMAGE_REPOSITORY = "registry.k8s.io";

/**
 * flannel, applied from a manifest groundwork renders (flannel.ts; no chart): v0.28.4 is the
 * release the Go module proxy serves, and its upstream kube-flannel.yml runs it with
 * flannel-cni-plugin v1.9.1-flannel1. Upstream names: what a data center mirrors.
 */
export const FLANNEL_IMAGE = "ghcr.io/flannel-io/flannel:v0.28.4";
// flannel-io/cni-plugin is not served by the Go module proxy: the image of this name built here comes from containernetworking/plugins v0.9.1's meta/flannel.
export const FLANNEL_CNI_PLUGIN_IMAGE = "ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel1";

export type AddonChart = "calico" | "cilium" | "openstackCcm" | "cinderCsi" | "vsphereCpi" | "vsphereCsi" | "metallb";

/** A pinned Helm chart, where it comes from, and the images it runs (name:tag). */
export interface ChartPin {
    chart: string;
    version: string;
    /** Upstream Helm repository; replaced by cluster.chartRepository when that is set. */
    repo: string;
    namespace: string;
    images: string[];
}

const CALICO = "v3.30.3";
const CILIUM = "v1.18.2";
const OS_PROVIDER = "v1.33.1";
const METALLB = "v0.15.2";

/**
 * Every image the vSphere CSI chart runs, by the values key that sets it (`<key>.registry`,
 * `.repository`, `.tag`; the chart's key paths since its 3.0 line). Set explicitly, so the pods
 * run exactly the bill of materials' images whatever the chart's defaults are: the driver and
 * syncer v3.5.0 with the CSI sidecars deployed beside that driver release by KubeOne's image table
 * (attacher v4.8.1, provisioner v4.0.1, resizer v1.12.0, snapshotter v8.2.0, livenessprobe
 * v2.15.0, node-driver-registrar v2.13.0). The Windows node DaemonSet and the optional webhooks
 * are not enabled.
 */
export const VSPHERE_CSI_IMAGES: Readonly<Record<string, string>> = {
    "controller.image": "registry.k8s.io/csi-vsphere/driver:v3.5.0",
    "controller.syncer.image": "registry.k8s.io/csi-vsphere/syncer:v3.5.0",
    "controller.attacher.image": "registry.k8s.io/sig-storage/csi-attacher:v4.8.1",
    "controller.provisioner.image": "registry.k8s.io/sig-storage/csi-provisioner:v4.0.1",
    "controller.resizer.image": "registry.k8s.io/sig-storage/csi-resizer:v1.12.0",
    "controller.snapshotter.image": "registry.k8s.io/sig-storage/csi-snapshotter:v8.2.0",
    "controller.livenessprobe.image": "registry.k8s.io/sig-storage/livenessprobe:v2.15.0",
    "node.image": "registry.k8s.io/csi-vsphere/driver:v3.5.0",
    "node.registrar.image": "registry.k8s.io/sig-storage/csi-node-driver-registrar:v2.13.0",
    "node.livenessprobe.image": "registry.k8s.io/sig-storage/livenessprobe:v2.15.0",
};

export const CHARTS: Record<AddonChart, ChartPin> = {
    calico: {
        chart: "tigera-operator",
        version: CALICO,
        repo: "https://docs.tigera.io/calico/charts",
        namespace: "tigera-operator",
        // The operator's images plus what it deploys by default in 3.30 (API server, Goldmane, Whisker).
        images: [
            "quay.io/tigera/operator:v1.38.6",
            ...["node", "cni", "kube-controllers", "typha", "csi", "node-driver-registrar", "pod2daemon-flexvol", "apiserver", "goldmane", "whisker", "whisker-backend"].map((c) => `docker.io/calico/${c}:${CALICO}`),
        ],
    },
    cilium: {
        chart: "cilium",
        version: CILIUM.slice(1),
        repo: "https://helm.cilium.io",
        namespace: "kube-system",
        // The chart runs Envoy as its own DaemonSet by default (envoy.enabled); its tag is the chart's, not Cilium's.
        images: [`quay.io/cilium/cilium:${CILIUM}`, `quay.io/cilium/operator-generic:${CILIUM}`, "quay.io/cilium/cilium-envoy:v1.34.7-1757592137-1a52bb680a956879722f48c591a2ca90f7791324"],
    },
    openstackCcm: {
        chart: "openstack-cloud-controller-manager",
        version: "2.33.1",
        repo: "https://kubernetes.github.io/cloud-provider-openstack",
        namespace: "kube-system",
        images: [`registry.k8s.io/provider-os/openstack-cloud-controller-manager:${OS_PROVIDER}`],
    },
    cinderCsi: {
        chart: "openstack-cinder-csi",
        version: "2.33.1",
        repo: "https://kubernetes.github.io/cloud-provider-openstack",
        namespace: "kube-system",
        images: [
            `registry.k8s.io/provider-os/cinder-csi-plugin:${OS_PROVIDER}`,
            "registry.k8s.io/sig-storage/csi-attacher:v4.8.1",
            "registry.k8s.io/sig-storage/csi-provisioner:v5.2.0",
            "registry.k8s.io/sig-storage/csi-snapshotter:v8.2.1",
            "registry.k8s.io/sig-storage/csi-resizer:v1.13.2",
            "registry.k8s.io/sig-storage/livenessprobe:v2.15.0",
            "registry.k8s.io/sig-storage/csi-node-driver-registrar:v2.13.0",
        ],
    },
    vsphereCpi: {
        chart: "vsphere-cpi",
        version: "1.33.0",
        repo: "https://kubernetes.github.io/cloud-provider-vsphere",
        namespace: "kube-system",
        images: ["registry.k8s.io/cloud-pv-vsphere/cloud-provider-vsphere:v1.33.0"],
    },
    vsphereCsi: {
        chart: "vsphere-csi",
        // Chart 3.8.0's appVersion is the driver's 3.5.0; every image is set through the chart's values (VSPHERE_CSI_IMAGES).
        version: "3.8.0",
        repo: "https://vsphere-tmm.github.io/helm-charts",
        namespace: "vmware-system-csi",
        images: [...new Set(Object.values(VSPHERE_CSI_IMAGES))].sort(),
    },
    metallb: {
        chart: "metallb",
        version: METALLB.slice(1),
        repo: "https://metallb.github.io/metallb",
        namespace: "metallb-system",
        images: [`quay.io/metallb/controller:${METALLB}`, `quay.io/metallb/speaker:${METALLB}`],
    },
};

/**
 * The StorageClass the cluster's own add-ons provide for workloads: the Cinder CSI chart's
 * `csi-cinder-sc-retain` (volumes kept when a claim goes) when OpenStack machines run with cloud
 * integration; undefined otherwise (vSphere CSI makes no class of its own, bare metal has none).
 */
export function addonStorageClass(config: ClusterConfig, backends: ReadonlySet<string>): string | undefined {
    return selectedCharts(config, backends).includes("cinderCsi") ? "csi-cinder-sc-retain" : undefined;
}

/** Images of the etcd snapshot job besides etcd itself (which comes from KUBERNETES_MINORS). */
export const SNAPSHOT_IMAGES = { hostPath: "docker.io/library/busybox:1.37.0", s3: "docker.io/amazon/aws-cli:2.27.50" } as const;

/** `v1.33.5` or `1.33.5` → `1.33.5`. */
export function bareVersion(version: string): string {
    return version.replace(/^v/, "");
}

/** `1.33.5` → `1.33`. */
export function minorOf(version: string): string {
    return bareVersion(version).split(".").slice(0, 2).join(".");
}

/** The known minor of a version, or undefined when groundwork has no pins for it. */
export function kubernetesMinor(version: string): KubernetesMinor | undefined {
    return KUBERNETES_MINORS[minorOf(version)];
}

/** The pause image of a Kubernetes version's minor (kubeadm's and containerd's sandbox image), upstream name. */
export function pauseImage(version: string): string | undefined {
    const minor = kubernetesMinor(version);
    return minor ? `${DEFAULT_IMAGE_REPOSITORY}/pause:${minor.pause}` : undefined;
}

/**
 * CoreDNS's repository in kubeadm's ClusterConfiguration (`dns.imageRepository`), or undefined
 * for the default registry. kubeadm adds the `coredns/` level only under registry.k8s.io and
 * pulls `<imageRepository>/coredns:<tag>` from any other: pointing CoreDNS at `<repo>/coredns`
 * keeps the upstream path (`coredns/coredns`), so a mirror holds every image at its upstream path
 * and a Harbor proxy cache asks upstream for an image that exists.
 */
export function dnsImageRepository(imageRepository: string): string | undefined {
    return imageRepository === DEFAULT_IMAGE_REPOSITORY ? undefined : `${imageRepository}/coredns`;
}

/**
 * Every image `kubeadm init` pulls for a version, as kubeadm names them with the rendered
 * ClusterConfiguration (`kubeadm config images list --config` is the test's oracle). Empty for a
 * minor groundwork does not know (validate refuses those).
 */
export function kubeadmImages(version: string, imageRepository = DEFAULT_IMAGE_REPOSITORY): string[] {
    const minor = kubernetesMinor(version);
    if (!minor) return [];
    const v = bareVersion(version);
    const control = ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy"].map((c) => `${imageRepository}/${c}:v${v}`);
    const dns = dnsImageRepository(imageRepository) ?? `${imageRepository}/coredns`;
    return [...control, `${dns}/coredns:${minor.coredns}`, `${imageRepository}/pause:${minor.pause}`, `${imageRepository}/etcd:${minor.etcd}`];
}

/** The chart of a CNI, or none for flannel (its manifest is rendered by groundwork). */
export function cniChart(kind: CniKind): AddonChart | undefined {
    switch (kind) {
        case "calico":
        case "cilium":
            return kind;
        case "flannel":
            return undefined;
        default: {
            const unknown: never = kind;
            throw new Error(`unknown CNI ${String(unknown)}`);
        }
    }
}

/** flannel's two images (upstream names) for a config: flanneld at cluster.cni.version when set, else the pin. */
export function flannelImages(config: ClusterConfig): { flannel: string; cniPlugin: string } {
    const version = config.cni.version;
    return { flannel: version === undefined ? FLANNEL_IMAGE : FLANNEL_IMAGE.replace(/:[^:/]+$/, `:v${bareVersion(version)}`), cniPlugin: FLANNEL_CNI_PLUGIN_IMAGE };
}

/** Which add-on charts a cluster installs, from its config and the backends its machines use. */
export function selectedCharts(config: ClusterConfig, backends: ReadonlySet<string>): AddonChart[] {
    const cni = cniChart(config.cni.kind);
    const out: AddonChart[] = cni === undefined ? [] : [cni];
    if (config.addons.cloudIntegration && backends.has("openstack")) out.push("openstackCcm", "cinderCsi");
    if (config.addons.cloudIntegration && backends.has("vsphere")) out.push("vsphereCpi", "vsphereCsi");
    if (metallbEnabled(config, backends)) out.push("metallb");
    return out;
}

/** MetalLB runs when switched on, or on `auto` when any machine is bare metal. */
export function metallbEnabled(config: ClusterConfig, backends: ReadonlySet<string>): boolean {
    return config.addons.metallb === "on" || (config.addons.metallb === "auto" && backends.has("baremetal"));
}

/** The chart pin with the configured CNI version applied. */
export function chartPin(config: ClusterConfig, which: AddonChart): ChartPin {
    const pin = CHARTS[which];
    if ((which === "calico" || which === "cilium") && config.cni.version !== undefined) {
        const v = bareVersion(config.cni.version);
        const images = pin.images.map((i) => (i.startsWith("quay.io/tigera/") || i.includes("/cilium-envoy:") ? i : i.replace(/:v[0-9.]+$/, `:v${v}`)));
        return { ...pin, version: which === "calico" ? `v${v}` : v, images };
    }
    return pin;
}

export interface BillOfMaterials {
    /** Container images as name:tag. */
    images: string[];
    /** Debian packages as name=version. */
    packages: string[];
    /** Helm charts as name@version. */
    charts: string[];
    /** Where each chart (name@version) comes from: its upstream repository, or cluster.chartRepository. */
    chartRepositories?: Record<string, string>;
}

/**
 * Everything the cluster pulls for a config: control-plane images of the pinned Kubernetes
 * version, kube-vip, the add-on charts and their images, flannel's images when it is the CNI,
 * and the apt packages. Sorted, no duplicates.
 */
export function clusterBillOfMaterials(config: ClusterConfig, backends: Iterable<string> = []): BillOfMaterials {
    const used = new Set(backends);
    const version = bareVersion(config.kubernetesVersion);
    const minor = kubernetesMinor(version);
    // Upstream names: what to copy; nodes pull them through the registry's mirror paths.
    const images = new Set<string>(kubeadmImages(version));
    const packages = new Set([`kubeadm=${version}${PACKAGE_REVISION}`, `kubelet=${version}${PACKAGE_REVISION}`, `kubectl=${version}${PACKAGE_REVISION}`]);
    if (minor) {
        packages.add(`cri-tools=${minor.criTools}`);
        packages.add(`kubernetes-cni=${minor.kubernetesCni}`);
    }
    if (config.controlPlaneEndpoint.mode === "kube-vip") images.add(KUBE_VIP_IMAGE);
    const charts = selectedCharts(config, used).map((c) => chartPin(config, c));
    for (const c of charts) c.images.forEach((i) => images.add(i));
    if (config.cni.kind === "flannel") Object.values(flannelImages(config)).forEach((i) => images.add(i));
    if (config.addons.etcdSnapshots.enabled) images.add(SNAPSHOT_IMAGES[config.addons.etcdSnapshots.target.kind]);
    const sorted = (s: Iterable<string>) => [...s].sort();
    const chartRepositories = Object.fromEntries(charts.map((c) => [`${c.chart}@${c.version}`, config.chartRepository?.replace(/\/+$/, "") ?? c.repo]).sort(([a], [b]) => a.localeCompare(b)));
    return { images: sorted(images), packages: sorted(packages), charts: sorted(charts.map((c) => `${c.chart}@${c.version}`)), chartRepositories };
}
