import { EnforcementLevel, StackValidationPolicy } from "@pulumi/policy";
import { environmentOf, roleOf } from "../lib";

/**
 * etcd keeps quorum only with an odd member count; prod must survive the loss of one control plane,
 * so it needs at least 3. Counts machines marked `groundwork:role: control-plane`.
 */
export function controlPlaneQuorum(level: EnforcementLevel): StackValidationPolicy {
    return {
        name: "control-plane-quorum",
        description: "Control-plane machines come in an odd count (etcd quorum), at least 3 in prod.",
        enforcementLevel: level,
        severity: "high",
        validateStack: (args, reportViolation) => {
            const count = args.resources.filter((r) => roleOf(r) === "control-plane").length;
            if (count === 0) return;
            const env = environmentOf(args.resources, args.stackTags);
            if (env === "prod" && count < 3) {
                reportViolation(`prod has ${count} control-plane machine${count === 1 ? "" : "s"}; it needs an odd count of at least 3 so etcd survives losing one`);
            } else if (count % 2 === 0) {
                reportViolation(`${count} control-plane machines is an even etcd membership; use an odd count (1, 3 or 5)`);
            }
        },
    };
}
