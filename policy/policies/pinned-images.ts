import { EnforcementLevel, ResourceValidationPolicy } from "@pulumi/policy";
import { containerImages, unpinnedImage } from "../lib";

/** Every container image in a Kubernetes object names a tag other than latest, or a digest. */
export function pinnedImages(level: EnforcementLevel): ResourceValidationPolicy {
    return {
        name: "pinned-images",
        description: "Container images are pinned to a tag or digest, never latest.",
        enforcementLevel: level,
        severity: "medium",
        validateResource: (args, reportViolation) => {
            if (!args.type.startsWith("kubernetes:") || args.type.startsWith("kubernetes:helm.sh/")) return;
            for (const { path, image } of containerImages(args.props)) {
                const why = unpinnedImage(image);
                if (why !== undefined) reportViolation(`${path}: image "${image}" ${why}; pin a version tag or a digest`);
            }
        },
    };
}
