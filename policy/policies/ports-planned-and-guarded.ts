import { EnforcementLevel, ResourceValidationPolicy } from "@pulumi/policy";
import { T } from "../lib";

/** Every OpenStack port holds its planned fixed address and sits behind a security group. */
export function portsPlannedAndGuarded(level: EnforcementLevel): ResourceValidationPolicy {
    return {
        name: "ports-planned-and-guarded",
        description: "OpenStack ports carry a fixed IP from the IP plan and keep port security with a security group.",
        enforcementLevel: level,
        severity: "medium",
        validateResource: (args, reportViolation) => {
            if (args.type !== T.port) return;
            const p = args.props;
            const name = String(p.name ?? args.name);
            const fixed: unknown[] = Array.isArray(p.fixedIps) ? p.fixedIps : [];
            if (!fixed.some((f) => f !== null && typeof f === "object" && typeof (f as Record<string, unknown>).ipAddress === "string")) {
                reportViolation(`port ${name} has no fixedIps[].ipAddress; machines take their address from the IP plan, not DHCP`);
            }
            if (p.portSecurityEnabled === false) {
                reportViolation(`port ${name} sets portSecurityEnabled: false; keep port security on`);
            } else if (!Array.isArray(p.securityGroupIds) || p.securityGroupIds.length === 0) {
                reportViolation(`port ${name} has no securityGroupIds; attach the platform's node security group`);
            }
        },
    };
}
