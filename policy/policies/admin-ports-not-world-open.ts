import { EnforcementLevel, ResourceValidationPolicy } from "@pulumi/policy";
import { T } from "../lib";

/** Ports that hand out control of the cluster: SSH and the Kubernetes API server. */
const ADMIN_PORTS: Record<number, string> = { 22: "SSH", 6443: "the Kubernetes API server" };
const WORLD = ["0.0.0.0/0", "::/0"];

/** An ingress rule must not open SSH or the API server to the whole internet; use admin CIDRs. */
export function adminPortsNotWorldOpen(level: EnforcementLevel): ResourceValidationPolicy {
    return {
        name: "admin-ports-not-world-open",
        description: "No security-group rule opens SSH (22) or the API server (6443) to 0.0.0.0/0.",
        enforcementLevel: level,
        severity: "critical",
        validateResource: (args, reportViolation) => {
            if (args.type !== T.secGroupRule) return;
            const p = args.props;
            if ((p.direction ?? "ingress") !== "ingress") return;
            if (p.protocol !== undefined && p.protocol !== "" && p.protocol !== "tcp" && p.protocol !== "6") return;
            // No prefix and no remote group means "from anywhere" to Neutron.
            const source = typeof p.remoteIpPrefix === "string" && p.remoteIpPrefix !== "" ? p.remoteIpPrefix : p.remoteGroupId ? undefined : "anywhere";
            if (source === undefined || (source !== "anywhere" && !WORLD.includes(source))) return;
            const min = typeof p.portRangeMin === "number" && p.portRangeMin > 0 ? p.portRangeMin : 1;
            const max = typeof p.portRangeMax === "number" && p.portRangeMax > 0 ? p.portRangeMax : 65535;
            for (const [port, what] of Object.entries(ADMIN_PORTS)) {
                if (min <= Number(port) && Number(port) <= max) {
                    reportViolation(`rule opens tcp ${port} (${what}) to ${source}; allow only the admin CIDRs (backends.openstack.adminCidrs)`);
                }
            }
        },
    };
}
