/** A port range that must be open between machines (or from admin networks). */
export interface PortRule {
    protocol: "tcp" | "udp";
    from: number;
    to: number;
    /** Why it is open; becomes the rule's description. */
    purpose: string;
    /** Also open to the admin CIDRs (SSH, API server), not only inside the node subnet. */
    admin?: boolean;
}

/** One rule as a security group sees it. */
export interface IngressRule {
    protocol: "tcp" | "udp";
    portRangeMin: number;
    portRangeMax: number;
    remoteIpPrefix: string;
    description: string;
}

/**
 * The CNI as the firewall sees it: its kind, and for flannel the VXLAN UDP port (cluster.cni.flannel.port).
 * A plain kind is flannel on its default port 8472.
 */
export type CniPorts = "calico" | "cilium" | "flannel" | { kind: "calico" | "cilium" | "flannel"; vxlanPort?: number };

/** Ports the layers above machines need. The CNI and registry port come from config. */
export function platformPorts(cni: CniPorts, registryPort?: number): PortRule[] {
    const rules: PortRule[] = [
        { protocol: "tcp", from: 22, to: 22, purpose: "ssh", admin: true },
        { protocol: "tcp", from: 6443, to: 6443, purpose: "kubernetes api", admin: true },
        { protocol: "tcp", from: 2379, to: 2380, purpose: "etcd" },
        { protocol: "tcp", from: 10250, to: 10250, purpose: "kubelet" },
    ];
    const { kind, vxlanPort } = typeof cni === "string" ? { kind: cni, vxlanPort: undefined } : cni;
    switch (kind) {
        case "calico":
            rules.push({ protocol: "tcp", from: 179, to: 179, purpose: "calico bgp" }, { protocol: "udp", from: 4789, to: 4789, purpose: "calico vxlan" }, { protocol: "tcp", from: 5473, to: 5473, purpose: "calico typha" });
            break;
        case "cilium":
            rules.push({ protocol: "udp", from: 8472, to: 8472, purpose: "cilium vxlan" }, { protocol: "tcp", from: 4240, to: 4240, purpose: "cilium health" });
            break;
        case "flannel": {
            const port = vxlanPort ?? 8472;
            rules.push({ protocol: "udp", from: port, to: port, purpose: "flannel vxlan" });
            break;
        }
        default: {
            const unknown: never = kind;
            throw new Error(`unknown CNI ${String(unknown)}`);
        }
    }
    if (registryPort !== undefined) rules.push({ protocol: "tcp", from: registryPort, to: registryPort, purpose: "registry" });
    return rules;
}

/**
 * Expands port rules to security-group ingress rules: every port from the node subnet, admin
 * ports also from each admin CIDR. Nothing is ever opened to 0.0.0.0/0 unless an admin CIDR says so.
 */
export function ingressRules(ports: PortRule[], nodeCidr: string, adminCidrs: string[]): IngressRule[] {
    const out: IngressRule[] = [];
    for (const p of ports) {
        const sources = [nodeCidr, ...(p.admin ? adminCidrs.filter((c) => c !== nodeCidr) : [])];
        for (const src of sources) {
            out.push({ protocol: p.protocol, portRangeMin: p.from, portRangeMax: p.to, remoteIpPrefix: src, description: `${p.purpose} from ${src === nodeCidr ? "nodes" : src}` });
        }
    }
    return out;
}
