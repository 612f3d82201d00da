import { stringify } from "yaml";
import { K8sObject } from "../kit/k8s-object";
import { ClusterConfig, flannelOptions, FlannelOptions } from "./config";

/**
 * flannel as groundwork applies it: the objects of upstream's kube-flannel.yml (v0.28), written
 * here as a pure function of typed input, so the program applies them and `groundwork render`
 * shows them byte for byte. No chart: none is reachable for an air-gapped install here.
 */

export const FLANNEL_NAMESPACE = "kube-flannel";
const NAME = "flannel";
const CONFIG_MAP = "kube-flannel-cfg";
const DAEMON_SET = "kube-flannel-ds";
/** Where the init container puts the CNI config on every node (kubelet picks the first file in /etc/cni/net.d). */
export const FLANNEL_CONFLIST_PATH = "/etc/cni/net.d/10-flannel.conflist";

/** flannel's options with their defaults when cluster.cni.flannel is not given. */
export const FLANNEL_DEFAULTS: FlannelOptions = flannelOptions.parse({});

/** The effective flannel options of a cni config (cluster.cni.flannel, defaults for what it leaves out). */
export function flannelOptionsOf(cni: ClusterConfig["cni"]): FlannelOptions {
    return cni.flannel ?? FLANNEL_DEFAULTS;
}

export interface FlannelManifestInput {
    /** The cluster's pod CIDR: flannel's Network, from which kube-controller-manager gives each node a /24. */
    podCidr: string;
    /** VXLAN network identifier. */
    vni: number;
    /** VXLAN UDP port. */
    port: number;
    /** `flanneld --iface`. Defaults to none: the interface of the node's default route. */
    iface?: string;
    /** flanneld's image as nodes pull it (also installs the CNI config). */
    image: string;
    /** flannel-cni-plugin's image as nodes pull it (installs the `flannel` CNI binary). */
    cniPluginImage: string;
}

const json = (o: unknown) => JSON.stringify(o, null, 2) + "\n";

/** `cni-conf.json`: a conflist with the flannel plugin (delegating to bridge) and portmap for hostPorts. */
export function flannelCniConf(): string {
    return json({
        name: "cbr0",
        cniVersion: "0.3.1",
        plugins: [
            { type: "flannel", delegate: { hairpinMode: true, isDefaultGateway: true } },
            { type: "portmap", capabilities: { portMappings: true } },
        ],
    });
}

/** `net-conf.json`: the pod network and the VXLAN backend. iptables, not nftables (the metadata guard is an iptables rule too). */
export function flannelNetConf(i: Pick<FlannelManifestInput, "podCidr" | "vni" | "port">): string {
    return json({ Network: i.podCidr, EnableNFTables: false, Backend: { Type: "vxlan", VNI: i.vni, Port: i.port } });
}

/** Every flannel object, in apply order: namespace, RBAC, config, DaemonSet. Deterministic. */
export function flannelObjects(i: FlannelManifestInput): K8sObject[] {
    const managed = { "app.kubernetes.io/managed-by": "groundwork" };
    const app = { app: "flannel", "k8s-app": "flannel" };
    const node = { ...app, tier: "node" };
    const ns = FLANNEL_NAMESPACE;
    const hostPath = (name: string, path: string, type?: string) => ({ name, hostPath: { path, ...(type ? { type } : {}) } });
    const copy = (from: string, to: string) => ({ command: ["cp"], args: ["-f", from, to] });
    return [
        { apiVersion: "v1", kind: "Namespace", metadata: { name: ns, labels: { "k8s-app": "flannel", "pod-security.kubernetes.io/enforce": "privileged", ...managed } } },
        { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: NAME, namespace: ns, labels: { "k8s-app": "flannel", ...managed } } },
        {
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "ClusterRole",
            metadata: { name: NAME, labels: { "k8s-app": "flannel", ...managed } },
            rules: [
                { apiGroups: [""], resources: ["pods"], verbs: ["get"] },
                { apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "watch", "patch"] },
                { apiGroups: [""], resources: ["nodes/status"], verbs: ["patch"] },
            ],
        },
        {
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "ClusterRoleBinding",
            metadata: { name: NAME, labels: { "k8s-app": "flannel", ...managed } },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: NAME },
            subjects: [{ kind: "ServiceAccount", name: NAME, namespace: ns }],
        },
        { apiVersion: "v1", kind: "ConfigMap", metadata: { name: CONFIG_MAP, namespace: ns, labels: { ...node, ...managed } }, data: { "cni-conf.json": flannelCniConf(), "net-conf.json": flannelNetConf(i) } },
        {
            apiVersion: "apps/v1",
            kind: "DaemonSet",
            metadata: { name: DAEMON_SET, namespace: ns, labels: { ...node, ...managed } },
            spec: {
                selector: { matchLabels: app },
                template: {
                    metadata: { labels: node },
                    spec: {
                        affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/os", operator: "In", values: ["linux"] }] }] } } },
                        hostNetwork: true,
                        priorityClassName: "system-node-critical",
                        // Every node needs its pod network: worker groups may carry NoExecute taints too, not only NoSchedule.
                        tolerations: [
                            { operator: "Exists", effect: "NoSchedule" },
                            { operator: "Exists", effect: "NoExecute" },
                        ],
                        serviceAccountName: NAME,
                        initContainers: [
                            { name: "install-cni-plugin", image: i.cniPluginImage, ...copy("/flannel", "/opt/cni/bin/flannel"), volumeMounts: [{ name: "cni-plugin", mountPath: "/opt/cni/bin" }] },
                            {
                                name: "install-cni",
                                image: i.image,
                                ...copy("/etc/kube-flannel/cni-conf.json", FLANNEL_CONFLIST_PATH),
                                volumeMounts: [
                                    { name: "cni", mountPath: "/etc/cni/net.d" },
                                    { name: "flannel-cfg", mountPath: "/etc/kube-flannel/" },
                                ],
                            },
                        ],
                        containers: [
                            {
                                name: "kube-flannel",
                                image: i.image,
                                command: ["/opt/bin/flanneld"],
                                args: ["--ip-masq", "--kube-subnet-mgr", ...(i.iface === undefined ? [] : [`--iface=${i.iface}`])],
                                resources: { requests: { cpu: "100m", memory: "50Mi" } },
                                securityContext: { privileged: false, capabilities: { add: ["NET_ADMIN", "NET_RAW"] } },
                                env: [
                                    { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                                    { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
                                    { name: "EVENT_QUEUE_DEPTH", value: "5000" },
                                    { name: "CONT_WHEN_CACHE_NOT_READY", value: "false" },
                                ],
                                volumeMounts: [
                                    { name: "run", mountPath: "/run/flannel" },
                                    { name: "flannel-cfg", mountPath: "/etc/kube-flannel/" },
                                    { name: "xtables-lock", mountPath: "/run/xtables.lock" },
                                ],
                            },
                        ],
                        volumes: [
                            hostPath("run", "/run/flannel"),
                            hostPath("cni-plugin", "/opt/cni/bin"),
                            hostPath("cni", "/etc/cni/net.d"),
                            { name: "flannel-cfg", configMap: { name: CONFIG_MAP } },
                            hostPath("xtables-lock", "/run/xtables.lock", "FileOrCreate"),
                        ],
                    },
                },
            },
        },
    ];
}

/** The objects as one YAML stream (`---` before each), as `groundwork render` writes `flannel.yaml`. */
export function renderFlannelManifest(i: FlannelManifestInput): string {
    return flannelObjects(i)
        .map((o) => `---\n${stringify(o, { sortMapEntries: false, lineWidth: 0 })}`)
        .join("");
}
