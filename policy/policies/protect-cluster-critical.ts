import { EnforcementLevel, ResourceValidationPolicy } from "@pulumi/policy";
import { T } from "../lib";

/** Names of keys every node trusts: cluster, etcd and front-proxy CAs and the service-account signer. */
export const CRITICAL_KEY_NAME = /(^|[-_])(ca|sa|service-account)([-_]|$)/i;

/**
 * Losing or replacing the cluster CA (or service-account signing key) invalidates every kubeconfig,
 * node certificate and token; such resources carry `protect: true`.
 */
export function protectClusterCritical(level: EnforcementLevel): ResourceValidationPolicy {
    return {
        name: "protect-cluster-critical",
        description: "Cluster CA keys, CA certificates and the service-account key are protected from deletion.",
        enforcementLevel: level,
        severity: "high",
        validateResource: (args, reportViolation) => {
            const critical =
                (args.type === T.privateKey && CRITICAL_KEY_NAME.test(args.name)) || (args.type === T.selfSignedCert && args.props.isCaCertificate === true);
            if (critical && args.opts.protect !== true) {
                reportViolation(`${args.name} is cluster-critical (a CA or service-account key); set protect: true so it cannot be deleted or replaced by accident`);
            }
        },
    };
}
