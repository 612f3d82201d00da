import { stringify } from "yaml";

/** Filled in on the machine: the interface that carries the node's own address. */
export const VIP_INTERFACE_PLACEHOLDER = "@VIP_INTERFACE@";
/** Filled in on the machine: super-admin.conf while `kubeadm init` runs, admin.conf afterwards. */
export const KUBECONFIG_PLACEHOLDER = "@KUBECONFIG@";

export interface KubeVipInput {
    /** The control-plane VIP. */
    address: string;
    /** The API server port on every control plane. */
    port: number;
    image: string;
    /** Leader lease in seconds (cluster.tuning.kubeVipLeaseSeconds); renew deadline ⅔ and retry period ⅕ of it. Defaults to kube-vip's 5 / 3 / 1. */
    leaseSeconds?: number;
}

/**
 * kube-vip as a static pod in ARP mode: the control planes elect a leader through a Lease, and
 * the leader answers ARP for the VIP. Services are left to MetalLB (svc_enable false).
 */
export function renderKubeVipManifest(v: KubeVipInput): string {
    const env: Record<string, string> = {
        address: v.address,
        port: String(v.port),
        vip_arp: "true",
        vip_cidr: "32",
        vip_interface: VIP_INTERFACE_PLACEHOLDER,
        cp_enable: "true",
        cp_namespace: "kube-system",
        svc_enable: "false",
        vip_leaderelection: "true",
        vip_leasename: "plndr-cp-lock",
        vip_leaseduration: String(v.leaseSeconds ?? 5),
        vip_renewdeadline: String(v.leaseSeconds === undefined ? 3 : Math.max(1, Math.floor((v.leaseSeconds * 2) / 3))),
        vip_retryperiod: String(v.leaseSeconds === undefined ? 1 : Math.max(1, Math.floor(v.leaseSeconds / 5))),
    };
    const pod = {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "kube-vip", namespace: "kube-system", labels: { "app.kubernetes.io/name": "kube-vip", "app.kubernetes.io/managed-by": "groundwork" } },
        spec: {
            hostNetwork: true,
            priorityClassName: "system-node-critical",
            hostAliases: [{ ip: "127.0.0.1", hostnames: ["kubernetes"] }],
            containers: [
                {
                    name: "kube-vip",
                    image: v.image,
                    imagePullPolicy: "IfNotPresent",
                    args: ["manager"],
                    env: [
                        { name: "vip_nodename", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
                        ...Object.entries(env).map(([name, value]) => ({ name, value })),
                    ],
                    securityContext: { capabilities: { drop: ["ALL"], add: ["NET_ADMIN", "NET_RAW"] } },
                    volumeMounts: [{ name: "kubeconfig", mountPath: "/etc/kubernetes/admin.conf", readOnly: true }],
                },
            ],
            volumes: [{ name: "kubeconfig", hostPath: { path: KUBECONFIG_PLACEHOLDER, type: "File" } }],
        },
    };
    return stringify(pod, { lineWidth: 0, sortMapEntries: false });
}
