import { EnforcementLevel, ResourceValidationPolicy } from "@pulumi/policy";
import { bootstrapTexts, T } from "../lib";

/** What an insecure registry looks like in containerd's hosts.toml or docker's daemon.json. */
const MARKERS: [RegExp, string][] = [
    [/^\s*skip_verify\s*=\s*true\b/m, "containerd skip_verify = true"],
    [/^\s*(server\s*=\s*"http:\/\/|\[host\."http:\/\/)/m, "a containerd registry host over plain http://"],
    [/"insecure-registries"\s*:\s*\[\s*"/, "docker insecure-registries"],
];

/** No machine's bootstrap turns off TLS verification or uses plain HTTP for a registry. */
export function noInsecureRegistries(level: EnforcementLevel): ResourceValidationPolicy {
    return {
        name: "no-insecure-registries",
        description: "Machines pull images only over verified TLS (no skip_verify, no http:// registries).",
        enforcementLevel: level,
        severity: "high",
        validateResource: (args, reportViolation) => {
            if (args.type !== T.instance && args.type !== T.vsphereVm && args.type !== T.remoteCommand) return;
            const found = new Set<string>();
            for (const text of bootstrapTexts(args.type, args.props)) {
                for (const [re, what] of MARKERS) if (re.test(text)) found.add(what);
            }
            for (const what of found) reportViolation(`bootstrap configures an insecure registry (${what}); trust the registry's CA via engine.caCertificates instead`);
        },
    };
}
