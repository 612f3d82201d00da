import { EnforcementLevel, ResourceValidationPolicy } from "@pulumi/policy";
import { T } from "../lib";

/** Bare-metal bootstrap logs in with a key (groundwork:sshPrivateKey), never a password. */
export function sshKeyAuthOnly(level: EnforcementLevel): ResourceValidationPolicy {
    return {
        name: "ssh-key-auth-only",
        description: "Remote commands authenticate with an SSH key, not a password.",
        enforcementLevel: level,
        severity: "medium",
        validateResource: (args, reportViolation) => {
            if (args.type !== T.remoteCommand) return;
            const c = (args.props.connection ?? {}) as Record<string, unknown>;
            const host = String(c.host ?? "?");
            if (typeof c.password === "string" && c.password !== "") {
                reportViolation(`connection to ${host} uses a password; log in with a key from the secret groundwork:sshPrivateKey`);
            } else if ((typeof c.privateKey !== "string" || c.privateKey === "") && c.agentSocketPath === undefined) {
                reportViolation(`connection to ${host} has no privateKey; log in with a key from the secret groundwork:sshPrivateKey`);
            }
        },
    };
}
