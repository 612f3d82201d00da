import { contains, parseCidr, parseIp, overlaps } from "../kit/ipv4";
import { Problem } from "../network/plan";
import { ClusterConfig } from "./config";
import { KUBERNETES_MINORS, kubernetesMinor, metallbEnabled } from "./versions";

/** What the cluster layer checks before it registers anything. */
export interface ClusterTopology {
    config: ClusterConfig;
    /** The node subnet from the IP plan. */
    nodeCidr: string;
    /** The control-plane VIP from the IP plan. */
    vip?: string;
    /** MetalLB's range from the IP plan (`first-last`). */
    loadBalancerRange?: string;
    /** How many control-plane machines. */
    controlPlanes: number;
    /** Backends of all machines. */
    backends: Iterable<string>;
}

const VERSION = /^v?\d+\.\d+\.\d+$/;

/**
 * Every problem of a cluster topology with its key path, all at once (never just the first).
 * Paths are relative to the platform config (`cluster.podCidr`, `network.vip`, …).
 */
export function validateCluster(t: ClusterTopology): Problem[] {
    const problems: Problem[] = [];
    const fail = (path: string, message: string) => problems.push({ path, message });
    const c = t.config;

    if (![1, 3, 5].includes(t.controlPlanes)) {
        fail("machines.controlPlane", `must be 1, 3 or 5 control-plane machines (an odd etcd quorum), got ${t.controlPlanes}`);
    }
    if (!VERSION.test(c.kubernetesVersion)) {
        fail("cluster.kubernetesVersion", `must be a full Kubernetes version like 1.33.5 (major.minor.patch), got "${c.kubernetesVersion}"`);
    }

    const node = parseCidr(t.nodeCidr);
    if (typeof node === "string") {
        fail("network.cidr", node);
        return problems;
    }
    const endpoint = c.controlPlaneEndpoint;
    if (endpoint.mode === "kube-vip") {
        if (t.vip === undefined) {
            fail("network.vip", "is required when cluster.controlPlaneEndpoint.mode is kube-vip");
        } else {
            const vip = parseIp(t.vip);
            if (vip === undefined) fail("network.vip", `must be an IPv4 address like 10.0.0.1, got "${t.vip}"`);
            else if (!contains(node, vip)) fail("network.vip", `${t.vip} is outside the node subnet ${node.text}; kube-vip answers ARP only on that subnet`);
        }
    } else if (endpoint.address === undefined) {
        fail("cluster.controlPlaneEndpoint.address", "is required when mode is external");
    }

    const cidrs: [string, string, string][] = [
        ["network.cidr", "the node subnet", t.nodeCidr],
        ["cluster.podCidr", "cluster.podCidr", c.podCidr],
        ["cluster.serviceCidr", "cluster.serviceCidr", c.serviceCidr],
    ];
    cidrs.forEach(([, labelA, a], i) => {
        for (const [pathB, , b] of cidrs.slice(i + 1)) {
            const ra = parseCidr(a);
            const rb = parseCidr(b);
            if (typeof rb === "string") {
                if (i === 0) fail(pathB, rb);
            } else if (typeof ra !== "string" && overlaps(ra, rb)) {
                fail(pathB, `${b} overlaps ${labelA} ${a}`);
            }
        }
    });

    problems.push(...clusterConfigProblems(c, new Set(t.backends), t.loadBalancerRange));
    return problems;
}

/**
 * The cluster rules that need only the config, the nodes' backends and MetalLB's range: the
 * Cluster component runs them before it registers anything, and `groundwork validate` runs the
 * very same function, so nothing passes validate that fails mid-deploy. Paths as validateCluster's.
 */
export function clusterConfigProblems(c: ClusterConfig, nodeBackends: ReadonlySet<string>, loadBalancerRange: string | undefined): Problem[] {
    const problems: Problem[] = [];
    const fail = (path: string, message: string) => problems.push({ path, message });
    if (VERSION.test(c.kubernetesVersion) && !kubernetesMinor(c.kubernetesVersion)) {
        const known = Object.keys(KUBERNETES_MINORS);
        fail("cluster.kubernetesVersion", `${c.kubernetesVersion} has no pinned images in groundwork; use ${known.slice(0, -1).join(", ")} or ${known[known.length - 1]}`);
    }
    if (metallbEnabled(c, nodeBackends) && loadBalancerRange === undefined) {
        fail("network.loadBalancerPool", `is required when MetalLB runs (cluster.addons.metallb is ${c.addons.metallb}${c.addons.metallb === "auto" ? " and there are bare-metal machines" : ""})`);
    }
    if (c.cni.kind === "flannel") {
        // flanneld --kube-subnet-mgr routes the /24 kube-controller-manager gives each node (kubeadm's default node mask).
        const pod = parseCidr(c.podCidr);
        if (typeof pod !== "string" && pod.prefix > 24) fail("cluster.podCidr", `${c.podCidr} holds no /24: flannel routes the /24 kube-controller-manager allocates to each node out of it; use a /24 or larger (a /16 has room for 256 nodes)`);
    }
    const src = c.packageSource;
    if (src.kind === "mirror" && src.url !== undefined && !src.trusted && new URL(src.url).protocol === "http:") {
        fail("cluster.packageSource.url", `${src.url} is plain HTTP: its signing key (Release.key) would come unauthenticated; use https, or set cluster.packageSource.trusted: true for a mirror you trust`);
    }
    return problems;
}

/** Problems as one message, one per line, for a ResourceError. */
export function formatProblems(problems: Problem[]): string {
    return problems.map((p) => `${p.path}: ${p.message}`).join("\n");
}
