import { EnforcementLevel, ResourceValidationPolicy } from "@pulumi/policy";
import { T } from "../lib";

/** Credentials only go to servers whose certificate was checked: vCenter and the Kubernetes API. */
export function verifiedTls(level: EnforcementLevel): ResourceValidationPolicy {
    return {
        name: "verified-tls",
        description: "Providers verify server certificates (no allowUnverifiedSsl, no insecure-skip-tls-verify).",
        enforcementLevel: level,
        severity: "high",
        validateResource: (args, reportViolation) => {
            if (args.type === T.vsphereProvider && args.props.allowUnverifiedSsl === true) {
                reportViolation("vSphere provider sets allowUnverifiedSsl: the vCenter password goes to an unverified server; trust vCenter's CA and set backends.vsphere.allowUnverifiedSsl: false");
            }
            if (args.type === T.kubernetesProvider) {
                const kc = args.props.kubeconfig;
                if (typeof kc === "string" && /insecure-skip-tls-verify["']?\s*:\s*["']?true/.test(kc)) {
                    reportViolation("kubernetes provider kubeconfig sets insecure-skip-tls-verify: true; use the cluster CA (certificate-authority-data)");
                }
            }
        },
    };
}
