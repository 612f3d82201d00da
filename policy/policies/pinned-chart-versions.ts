import { EnforcementLevel, ResourceValidationPolicy } from "@pulumi/policy";
import { T } from "../lib";

/** Helm releases name one exact chart version, so a preview shows exactly what will be installed. */
export function pinnedChartVersions(level: EnforcementLevel): ResourceValidationPolicy {
    return {
        name: "pinned-chart-versions",
        description: "Helm releases pin an exact chart version (no range, no latest).",
        enforcementLevel: level,
        severity: "medium",
        validateResource: (args, reportViolation) => {
            if (args.type !== T.helmRelease) return;
            const chart = String(args.props.chart ?? args.name);
            const version = args.props.version;
            if (typeof version !== "string" || version.trim() === "") {
                reportViolation(`chart ${chart} has no version; pin an exact chart version`);
            } else if (version === "latest" || /[\^~*xX<>=|\s]/.test(version.replace(/^v/, "").replace(/-.*$/, ""))) {
                reportViolation(`chart ${chart} version "${version}" is not exact; pin one version like 1.2.3`);
            }
        },
    };
}
