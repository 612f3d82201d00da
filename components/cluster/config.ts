import { z } from "zod";
import { cidr, count, ipv4, kubernetesVersion, pinnedVersion, url } from "../kit/zod-kit";

export const etcdSnapshotTarget = z.discriminatedUnion("kind", [
    z.object({ kind: z.literal("hostPath"), path: z.string().regex(/^\/[^\s]*$/, "must be an absolute path").default("/var/backups/etcd") }).strict(),
    z.object({ kind: z.literal("s3"), endpoint: url(), bucket: z.string().min(3), region: z.string().default("us-east-1"), insecure: z.boolean().default(false) }).strict(),
]);

/** The key types kubeadm v1beta4 makes certificates with (its ClusterConfiguration.encryptionAlgorithm; kubeadm 1.33 refuses ECDSA-P384). */
export const KEY_ALGORITHMS = ["RSA-2048", "RSA-3072", "RSA-4096", "ECDSA-P256"] as const;

export const CNI_KINDS = ["calico", "cilium", "flannel"] as const;
export type CniKind = (typeof CNI_KINDS)[number];

/** A Linux interface name as `ip link` shows it (IFNAMSIZ: at most 15 characters). */
const interfaceName = z.string().refine((s) => /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/.test(s), (s) => ({
    message: `must be a network interface name like ens3 or bond0.100 (letters, digits, '.', '_', '-'; at most 15 characters), got "${s}"`,
}));

/** `cluster.cni.flannel`: flannel's options; only with `cni.kind: flannel`. */
export const flannelOptions = z
    .object({
        /**
         * Only VXLAN: it encapsulates pod traffic between nodes, which OpenStack port security lets
         * through; host-gw would route pod addresses natively (dropped there). Defaults to vxlan.
         */
        backend: z.enum(["vxlan"]).default("vxlan"),
        /** VXLAN network identifier (24 bits). Defaults to 1, flannel's. */
        vni: count(1).max(16777215).default(1),
        /** UDP port of the VXLAN tunnel, opened between nodes. Defaults to 8472, flannel's (the Linux kernel's VXLAN port). */
        port: count(1).max(65535).default(8472),
        /** The node interface flannel tunnels over (`flanneld --iface`). Defaults to the interface of the node's default route. */
        iface: interfaceName.optional(),
    })
    .strict();

export type FlannelOptions = z.infer<typeof flannelOptions>;

export const clusterConfig = z
    .object({
        /** Pinned Kubernetes version, major.minor.patch. */
        kubernetesVersion,
        podCidr: cidr.default("10.244.0.0/16"),
        serviceCidr: cidr.default("10.96.0.0/12"),
        clusterDomain: z.string().regex(/^[a-z0-9.-]+$/, "must be a DNS domain").default("cluster.local"),
        /** kube-vip holds network.vip (default), or an external load balancer at `address`. */
        controlPlaneEndpoint: z
            .object({ mode: z.enum(["kube-vip", "external"]).default("kube-vip"), address: ipv4.optional(), port: count(1).max(65535).default(6443) })
            .strict()
            .default({}),
        /**
         * The CNI: Calico (default) or Cilium from their Helm charts, or flannel from a manifest
         * groundwork renders. `version` moves the chart (Calico, Cilium) or flanneld's image (flannel).
         */
        cni: z
            .object({ kind: z.enum(CNI_KINDS).default("calico"), version: pinnedVersion.optional(), flannel: flannelOptions.optional() })
            .strict()
            .superRefine((cni, ctx) => {
                if (cni.flannel !== undefined && cni.kind !== "flannel") ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["flannel"], message: `is for kind flannel only; cni.kind is ${cni.kind}` });
            })
            .default({}),
        /** Where kubeadm, kubelet and kubectl come from: the upstream apt repository or an internal mirror. */
        packageSource: z
            .object({
                kind: z.enum(["upstream", "mirror"]).default("upstream"),
                /** The mirror's copy of `https://pkgs.k8s.io/core:/stable:/v<minor>/deb/`; its key is read from `<url>/Release.key`. */
                url: url().optional(),
                /** Accept an unsigned mirror (`[trusted=yes]`). Defaults to false. */
                trusted: z.boolean().default(false),
            })
            .strict()
            .default({}),
        /** Helm chart repository override for every add-on (air-gap). Defaults to each chart's upstream. */
        chartRepository: url(["http", "https", "oci"]).optional(),
        addons: z
            .object({
                /** MetalLB for LoadBalancer services. Defaults to on when bare-metal machines exist. */
                metallb: z.enum(["auto", "on", "off"]).default("auto"),
                /** Cloud controller + CSI for OpenStack/vSphere machines. Defaults to on. */
                cloudIntegration: z.boolean().default(true),
                etcdSnapshots: z
                    .object({
                        enabled: z.boolean().default(true),
                        schedule: z.string().regex(/^(\S+\s+){4}\S+$/, "must be a cron schedule with 5 fields").default("0 */6 * * *"),
                        retention: count(1).default(7),
                        target: etcdSnapshotTarget.default({ kind: "hostPath", path: "/var/backups/etcd" }),
                    })
                    .strict()
                    .default({}),
            })
            .strict()
            .default({}),
        /**
         * kubeadm's certificates (one year from init, upgrade or renewal) on the control planes:
         * renewed `renewBeforeDays` before they expire by a daily check (`autoRenew`), or at once,
         * control plane by control plane, whenever `renewRequest` takes a new value.
         */
        certificates: z
            .object({
                /** Days before expiry a certificate is renewed. Defaults to 30. */
                renewBeforeDays: count(1).max(300).default(30),
                /** A daily systemd timer on every control plane checks and renews. Defaults to true. */
                autoRenew: z.boolean().default(true),
                /** Any new value (a date, a ticket number) renews every control plane's certificates once. Defaults to none. */
                renewRequest: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, "must be 1–64 letters, digits, '.', '_', ':' or '-' (a date or a ticket number)").optional(),
                /**
                 * The key type of the certificates kubeadm makes (kubeadm's `encryptionAlgorithm`): the API
                 * server's, etcd's, the kubeconfigs', the service-account signing key. Defaults to kubeadm's
                 * own, RSA-2048. ECDSA-P256 makes each TLS handshake with the API server about 13 times cheaper
                 * (OpenSSL: 50,708 P-256 signatures/s against 3,964 RSA-2048 on this machine's host), which
                 * matters on slow or emulated control planes. Applies to certificates kubeadm makes after it is
                 * set (set it when the cluster is made: nothing is re-keyed); the cluster CA, made by the
                 * program, stays RSA-2048.
                 */
                keyAlgorithm: z.enum(KEY_ALGORITHMS).optional(),
            })
            .strict()
            .default({}),
        /**
         * For slow machines only (emulated test guests, overloaded hypervisors): longer kubeadm
         * timeouts and more patient control-plane probes. Unset: kubeadm's and Kubernetes' own.
         */
        tuning: z
            .object({
                /** Every kubeadm v1beta4 timeout (health checks, API calls, TLS bootstrap, discovery), in minutes. */
                kubeadmTimeoutMinutes: count(1).max(120).optional(),
                /**
                 * Seconds the control-plane static pods (API server, controller manager, scheduler, etcd) may
                 * take to start before their probes restart them; their liveness probes then wait 30 s and
                 * allow 12 failures, and the API server's readiness is probed every 10 s, not every second.
                 */
                controlPlaneStartupSeconds: count(60).max(3600).optional(),
                /** kube-vip's leader lease in seconds (renew deadline ⅔, retry period ⅕ of it): a slow API server must not cost the VIP its leader. */
                kubeVipLeaseSeconds: count(5).max(300).optional(),
                /**
                 * The controller manager's and scheduler's leader lease in seconds (renew deadline ⅔,
                 * retry period ⅕ of it): a control plane too slow to renew in Kubernetes' 10 s
                 * restarts both and stalls every controller while they resync.
                 */
                controlPlaneLeaseSeconds: count(15).max(300).optional(),
                /**
                 * How long the API server's health and readiness checks wait for etcd, in seconds (its
                 * --etcd-healthcheck-timeout and --etcd-readycheck-timeout; Kubernetes' own: 2): on a
                 * starved control plane a slow etcd answer must not make a working API server fail its
                 * liveness probe and restart, which loads etcd further.
                 */
                apiServerEtcdCheckSeconds: count(2).max(60).optional(),
            })
            .strict()
            .default({}),
    })
    .strict();

export type ClusterConfig = z.infer<typeof clusterConfig>;
