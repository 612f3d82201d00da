import { createHash } from "crypto";
import { stringify } from "yaml";
import { EngineKind, PackageSource } from "../engine/config";
import { MachineSpec } from "../machines/machine";
import type { KEY_ALGORITHMS } from "./config";
import { FlannelManifestInput } from "./flannel";
import { JOIN_TOKEN_TTL } from "./join";
import { bareVersion, dnsImageRepository, kubernetesMinor } from "./versions";

/** kubeadm's config API used for every document (Kubernetes ≥ 1.31). */
export const KUBEADM_API = "kubeadm.k8s.io/v1beta4";
export const KUBELET_API = "kubelet.config.k8s.io/v1beta1";

/** Everything cluster-wide the renderers need, resolved once from config (plain values, no Outputs). */
export interface ClusterSettings {
    clusterName: string;
    /** Pinned Kubernetes version without the `v`, e.g. `1.33.13`. */
    kubernetesVersion: string;
    podCidr: string;
    serviceCidr: string;
    dnsDomain: string;
    /** The control-plane endpoint every node and the kubeconfig use: the VIP or the external LB. */
    endpoint: { host: string; port: number };
    /** kube-vip holds endpoint.host on the control planes; undefined with an external load balancer. */
    kubeVip?: { image: string };
    /** What flannel's manifest is rendered from (images as nodes pull them); undefined unless cluster.cni.kind is flannel. */
    flannel?: FlannelManifestInput;
    /** Where kubeadm pulls control-plane images from (the internal registry when air-gapped). */
    imageRepository: string;
    engine: EngineKind;
    /** Where kubeadm, kubelet and kubectl come from. */
    packageSource: { kind: "upstream" | "mirror"; url?: string; trusted: boolean };
    /** Backends whose nodes run `--cloud-provider=external` (a cloud controller initialises them). */
    externalCloudBackends: string[];
    /** How nodes download: the engine's proxy and OS package mirror. Defaults to direct, from the distribution. */
    downloads?: { proxy?: DownloadProxy; osMirror?: PackageSource };
    /** cluster.tuning: longer kubeadm timeouts, patient control-plane probes. Defaults to kubeadm's own. */
    tuning?: { kubeadmTimeoutMinutes?: number; controlPlaneStartupSeconds?: number; kubeVipLeaseSeconds?: number; controlPlaneLeaseSeconds?: number; apiServerEtcdCheckSeconds?: number };
    /** cluster.certificates: renewal of kubeadm's certificates on the control planes (defaults to a daily check, 30 days ahead) and their key type (kubeadm's own when unset). */
    certificates?: { renewBeforeDays: number; autoRenew: boolean; renewRequest?: string; keyAlgorithm?: (typeof KEY_ALGORITHMS)[number] };
}

/** Where control planes keep the kubeadm patches of cluster.tuning (static pod probes). */
export const PATCHES_DIR = "/etc/groundwork/kubeadm/patches";

/** The static pods kubeadm runs on a control plane, by container name. */
const CONTROL_PLANE_PODS = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"] as const;

/** kubeadm v1beta4's timeouts, all at cluster.tuning.kubeadmTimeoutMinutes; none when unset. */
function timeouts(s: ClusterSettings): Record<string, string> | undefined {
    const m = s.tuning?.kubeadmTimeoutMinutes;
    if (m === undefined) return undefined;
    const d = `${m}m0s`;
    return { controlPlaneComponentHealthCheck: d, kubeletHealthCheck: d, kubernetesAPICall: d, etcdAPICall: d, tlsBootstrap: d, discovery: d, upgradeManifests: d };
}

/** The leader-election flags of the controller manager and scheduler from cluster.tuning.controlPlaneLeaseSeconds (v1beta4 extraArgs); none when unset. */
function leaderElectionArgs(s: ClusterSettings): { name: string; value: string }[] | undefined {
    const n = s.tuning?.controlPlaneLeaseSeconds;
    if (n === undefined) return undefined;
    return [
        { name: "leader-elect-lease-duration", value: `${n}s` },
        { name: "leader-elect-renew-deadline", value: `${Math.round((n * 2) / 3)}s` },
        { name: "leader-elect-retry-period", value: `${Math.round(n / 5)}s` },
    ];
}

/** The API server's etcd check flags from cluster.tuning.apiServerEtcdCheckSeconds (v1beta4 extraArgs); none when unset. */
function apiServerArgs(s: ClusterSettings): { name: string; value: string }[] | undefined {
    const n = s.tuning?.apiServerEtcdCheckSeconds;
    if (n === undefined) return undefined;
    return [
        { name: "etcd-healthcheck-timeout", value: `${n}s` },
        { name: "etcd-readycheck-timeout", value: `${n}s` },
    ];
}

/**
 * Strategic-merge patches (kubeadm's `patches.directory`, files `<pod>+strategic.yaml`) that give
 * each control-plane static pod cluster.tuning.controlPlaneStartupSeconds to start (startup probe
 * failures × 10 s period) and a liveness probe that tolerates slow answers. Empty when unset.
 */
export function controlPlanePatches(s: ClusterSettings): { file: string; content: string }[] {
    const seconds = s.tuning?.controlPlaneStartupSeconds;
    if (seconds === undefined) return [];
    const startup = Math.ceil(seconds / 10);
    // kubeadm probes the API server's readiness every second, each probe a new TLS handshake (the
    // kubelet's probes keep no connection): on a starved control plane that is a steady share of its
    // CPU for a status nothing routes by (the API server keeps its own endpoints). Every 10 s here.
    const readiness = (name: string) => (name === "kube-apiserver" ? { readinessProbe: { periodSeconds: 10, timeoutSeconds: 30 } } : {});
    return CONTROL_PLANE_PODS.map((name) => ({
        file: `${name}+strategic.yaml`,
        content: stringify({ spec: { containers: [{ name, startupProbe: { failureThreshold: startup, timeoutSeconds: 30 }, livenessProbe: { failureThreshold: 12, timeoutSeconds: 30 }, ...readiness(name) }] } }, { lineWidth: 0 }),
    }));
}

/** The node's HTTP(S) proxy with the full no_proxy list (engine config and platform entries). */
export interface DownloadProxy {
    http?: string;
    https?: string;
    noProxy: string[];
}

/** What every node's bootstrap carries about the cluster: nothing secret (join material comes over SSH, see join.ts). */
export interface ClusterTrust {
    caCertPem: string;
    /** `sha256:<hex>` of the CA's public key, for discovery. */
    caCertHash: string;
}

/** Token and certificate key as kubeadm config takes them (values, or the markers join.ts fills in on the machine). */
export interface JoinCredentials {
    /** `[a-z0-9]{6}.[a-z0-9]{16}`. */
    bootstrapToken: string;
    /** 64 hex characters (an AES-256 key) for kubeadm's uploaded control-plane certificates. */
    certificateKey: string;
}

/** How the kubelet reaches the engine: the CRI socket and the cgroup driver the engine is configured with. */
export function engineRuntime(kind: EngineKind): { criSocket: string; cgroupDriver: "systemd" } {
    switch (kind) {
        case "containerd":
            return { criSocket: "unix:///run/containerd/containerd.sock", cgroupDriver: "systemd" };
        case "docker":
            // dockershim is gone and cri-dockerd is not packaged in Debian 12: the kubelet uses the CRI of the containerd docker.io runs on.
            return { criSocket: "unix:///run/containerd/containerd.sock", cgroupDriver: "systemd" };
        default: {
            const unknown: never = kind;
            throw new Error(`unknown engine ${String(unknown)}`);
        }
    }
}

/** kube-apiserver's secure port on each control plane; equals the endpoint port with kube-vip (ARP mode forwards nothing). */
export function bindPort(s: ClusterSettings): number {
    return s.kubeVip ? s.endpoint.port : 6443;
}

export function endpointAddress(s: ClusterSettings): string {
    return `${s.endpoint.host}:${s.endpoint.port}`;
}

/** `sha256:<hex>` of the DER SubjectPublicKeyInfo in a `PUBLIC KEY` PEM (what kubeadm's caCertHashes pin). */
export function caCertHash(publicKeyPem: string): string {
    const body = publicKeyPem.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, "").replace(/\s+/g, "");
    return `sha256:${createHash("sha256").update(Buffer.from(body, "base64")).digest("hex")}`;
}

const KUBERNETES_NAMESPACES = /(^|\.)(kubernetes\.io|k8s\.io)$/;
const SELF_LABELS = new Set(["kubernetes.io/hostname", "kubernetes.io/arch", "kubernetes.io/os", "topology.kubernetes.io/region", "topology.kubernetes.io/zone", "node.kubernetes.io/instance-type"]);

/** Whether NodeRestriction lets a kubelet set this label on itself (otherwise the sync after join sets it). */
export function selfAssignable(key: string): boolean {
    const slash = key.indexOf("/");
    if (slash < 0) return true;
    const prefix = key.slice(0, slash);
    if (prefix === "node-restriction.kubernetes.io") return false;
    if (!KUBERNETES_NAMESPACES.test(prefix)) return true;
    return SELF_LABELS.has(key) || prefix === "kubelet.kubernetes.io" || prefix.endsWith(".kubelet.kubernetes.io") || prefix === "node.kubernetes.io" || prefix.endsWith(".node.kubernetes.io");
}

export const CONTROL_PLANE_TAINT = { key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" } as const;

/** Taints a node registers with: kubeadm's control-plane taint (control planes) and the configured ones. */
export function registrationTaints(node: Pick<MachineSpec, "role" | "taints">): { key: string; value?: string; effect: string }[] {
    const configured = node.taints.map((t) => (t.value === undefined ? { key: t.key, effect: t.effect } : { key: t.key, value: t.value, effect: t.effect }));
    const base = node.role === "control-plane" && !configured.some((t) => t.key === CONTROL_PLANE_TAINT.key) ? [{ ...CONTROL_PLANE_TAINT }] : [];
    return [...base, ...configured];
}

function nodeRegistration(s: ClusterSettings, node: MachineSpec) {
    const labels = Object.entries(node.labels)
        .filter(([k]) => selfAssignable(k))
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `${k}=${v}`);
    const args: { name: string; value: string }[] = [{ name: "node-ip", value: node.address }];
    if (labels.length > 0) args.push({ name: "node-labels", value: labels.join(",") });
    if (s.externalCloudBackends.includes(node.backend)) args.push({ name: "cloud-provider", value: "external" });
    args.sort((a, b) => a.name.localeCompare(b.name));
    return { name: node.name, criSocket: engineRuntime(s.engine).criSocket, taints: registrationTaints(node), kubeletExtraArgs: args, imagePullPolicy: "IfNotPresent" };
}

function docs(objects: object[]): string {
    return objects.map((o) => stringify(o, { lineWidth: 0, sortMapEntries: false })).join("---\n");
}

/** ClusterConfiguration: pinned version, CIDRs, the endpoint (with the VIP in the API server's SANs), image repository, etcd and CoreDNS tags. */
export function clusterConfiguration(s: ClusterSettings) {
    // etcd and CoreDNS from groundwork's table of the minor, not kubeadm's compiled-in defaults.
    const minor = kubernetesMinor(s.kubernetesVersion);
    const dns = dnsImageRepository(s.imageRepository);
    const lease = leaderElectionArgs(s);
    const apiArgs = apiServerArgs(s);
    const keys = s.certificates?.keyAlgorithm;
    return {
        apiVersion: KUBEADM_API,
        kind: "ClusterConfiguration",
        clusterName: s.clusterName,
        kubernetesVersion: `v${bareVersion(s.kubernetesVersion)}`,
        controlPlaneEndpoint: endpointAddress(s),
        imageRepository: s.imageRepository,
        networking: { podSubnet: s.podCidr, serviceSubnet: s.serviceCidr, dnsDomain: s.dnsDomain },
        apiServer: { certSANs: [s.endpoint.host], ...(apiArgs ? { extraArgs: apiArgs } : {}) },
        etcd: { local: { dataDir: "/var/lib/etcd", ...(minor ? { imageTag: minor.etcd } : {}) } },
        dns: { ...(dns ? { imageRepository: dns } : {}), ...(minor ? { imageTag: minor.coredns } : {}) },
        ...(lease ? { controllerManager: { extraArgs: lease }, scheduler: { extraArgs: lease } } : {}),
        ...(keys ? { encryptionAlgorithm: keys } : {}),
    };
}

/** KubeletConfiguration shared by every node (kubeadm uploads it at init; joining nodes download it). */
export function kubeletConfiguration(s: ClusterSettings) {
    const rt = engineRuntime(s.engine);
    return { apiVersion: KUBELET_API, kind: "KubeletConfiguration", cgroupDriver: rt.cgroupDriver, containerRuntimeEndpoint: rt.criSocket, rotateCertificates: true, failSwapOn: true };
}

/** The first control plane's `kubeadm init --config` file: Init + Cluster + Kubelet configuration. */
export function renderKubeadmInit(s: ClusterSettings, node: MachineSpec, secrets: JoinCredentials): string {
    const init = {
        apiVersion: KUBEADM_API,
        kind: "InitConfiguration",
        bootstrapTokens: [
            {
                token: secrets.bootstrapToken,
                description: "groundwork: the first control plane's own token",
                // Every other machine gets its own token, registered right before its join (join.ts).
                ttl: JOIN_TOKEN_TTL,
                usages: ["signing", "authentication"],
                groups: ["system:bootstrappers:kubeadm:default-node-token"],
            },
        ],
        nodeRegistration: nodeRegistration(s, node),
        localAPIEndpoint: { advertiseAddress: node.address, bindPort: bindPort(s) },
        certificateKey: secrets.certificateKey,
        ...(controlPlanePatches(s).length > 0 ? { patches: { directory: PATCHES_DIR } } : {}),
        ...(timeouts(s) ? { timeouts: timeouts(s) } : {}),
    };
    return docs([init, clusterConfiguration(s), kubeletConfiguration(s)]);
}

/** A joining node's `kubeadm join --config` file; control planes also get the certificate key. */
export function renderKubeadmJoin(s: ClusterSettings, node: MachineSpec, secrets: JoinCredentials & Pick<ClusterTrust, "caCertHash">): string {
    const join: Record<string, unknown> = {
        apiVersion: KUBEADM_API,
        kind: "JoinConfiguration",
        nodeRegistration: nodeRegistration(s, node),
        discovery: { bootstrapToken: { token: secrets.bootstrapToken, apiServerEndpoint: endpointAddress(s), caCertHashes: [secrets.caCertHash] } },
    };
    if (node.role === "control-plane") {
        join.controlPlane = { localAPIEndpoint: { advertiseAddress: node.address, bindPort: bindPort(s) }, certificateKey: secrets.certificateKey };
        if (controlPlanePatches(s).length > 0) join.patches = { directory: PATCHES_DIR };
    }
    if (timeouts(s)) join.timeouts = timeouts(s);
    return docs([join]);
}

/**
 * The `kubeadm upgrade apply|node --config` file (v1beta4 UpgradeConfiguration), or undefined when
 * the defaults serve: cluster.tuning's timeouts (without it an upgrade waits 5 minutes for each
 * restarted static pod, whatever kubeadmTimeoutMinutes says) and, on control planes, the patches
 * directory, so the static pods an upgrade writes keep the tuned probes the init or join gave them.
 */
export function renderKubeadmUpgrade(s: ClusterSettings, node: MachineSpec): string | undefined {
    const patched = node.role === "control-plane" && controlPlanePatches(s).length > 0;
    // Two objects, not one twice: YAML would write the second as an alias of the first.
    const patches = () => ({ patches: { directory: PATCHES_DIR } });
    const t = timeouts(s);
    if (!patched && !t) return undefined;
    return docs([{ apiVersion: KUBEADM_API, kind: "UpgradeConfiguration", ...(patched ? { apply: patches(), node: patches() } : {}), ...(t ? { timeouts: t } : {}) }]);
}

/** ClusterConfiguration alone: what `kubeadm init phase upload-certs` needs on a control plane. */
export function renderClusterConfiguration(s: ClusterSettings): string {
    return docs([clusterConfiguration(s)]);
}

/** A kubeconfig with embedded certificates (client-certificate auth). */
export function renderKubeconfig(k: { clusterName: string; server: string; caCertPem: string; user: string; clientCertPem: string; clientKeyPem: string }): string {
    const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
    const context = `${k.user}@${k.clusterName}`;
    return stringify(
        {
            apiVersion: "v1",
            kind: "Config",
            clusters: [{ name: k.clusterName, cluster: { server: k.server, "certificate-authority-data": b64(k.caCertPem) } }],
            users: [{ name: k.user, user: { "client-certificate-data": b64(k.clientCertPem), "client-key-data": b64(k.clientKeyPem) } }],
            contexts: [{ name: context, context: { cluster: k.clusterName, user: k.user } }],
            "current-context": context,
        },
        { lineWidth: 0, sortMapEntries: false },
    );
}
