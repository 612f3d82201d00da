import { EnforcementLevel, ResourceValidationPolicy } from "@pulumi/policy";
import { ROLE_KEY, T } from "../lib";

const SPREAD = ["anti-affinity", "soft-anti-affinity"];

/**
 * Control planes on one hypervisor fail together: their OpenStack server group must spread them
 * (anti-affinity) and every control-plane server must be scheduled into a server group.
 */
export function controlPlaneAntiAffinity(level: EnforcementLevel): ResourceValidationPolicy {
    return {
        name: "control-plane-anti-affinity",
        description: "OpenStack control planes sit in a server group with an anti-affinity policy.",
        enforcementLevel: level,
        severity: "high",
        validateResource: (args, reportViolation) => {
            if (args.type === T.serverGroup) {
                const policies: unknown[] = Array.isArray(args.props.policies) ? args.props.policies : [];
                const name = String(args.props.name ?? args.name);
                if (/control-plane/.test(name) && !policies.some((p) => SPREAD.includes(String(p)))) {
                    reportViolation(`server group ${name} has policies [${policies.join(", ")}]; control planes need anti-affinity or soft-anti-affinity`);
                }
            } else if (args.type === T.instance) {
                const metadata = (args.props.metadata ?? {}) as Record<string, unknown>;
                if (metadata[ROLE_KEY] !== "control-plane") return;
                const hints: unknown[] = Array.isArray(args.props.schedulerHints) ? args.props.schedulerHints : [];
                const grouped = hints.some((h) => h !== null && typeof h === "object" && typeof (h as Record<string, unknown>).group === "string" && (h as Record<string, unknown>).group !== "");
                if (!grouped) reportViolation(`control-plane server ${String(args.props.name ?? args.name)} has no schedulerHints.group; put it in the anti-affinity server group`);
            }
        },
    };
}
