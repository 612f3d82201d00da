import { GuardrailFactory } from "../lib";
import { adminPortsNotWorldOpen } from "./admin-ports-not-world-open";
import { controlPlaneAntiAffinity } from "./control-plane-anti-affinity";
import { controlPlaneQuorum } from "./control-plane-quorum";
import { credentialsAreSecrets } from "./credentials-are-secrets";
import { etcdSnapshotsEnabled } from "./etcd-snapshots-enabled";
import { noInsecureRegistries } from "./no-insecure-registries";
import { pinnedChartVersions } from "./pinned-chart-versions";
import { pinnedImages } from "./pinned-images";
import { portsPlannedAndGuarded } from "./ports-planned-and-guarded";
import { protectClusterCritical } from "./protect-cluster-critical";
import { sshKeyAuthOnly } from "./ssh-key-auth-only";
import { verifiedTls } from "./verified-tls";

export {
    adminPortsNotWorldOpen,
    controlPlaneAntiAffinity,
    controlPlaneQuorum,
    credentialsAreSecrets,
    etcdSnapshotsEnabled,
    noInsecureRegistries,
    pinnedChartVersions,
    pinnedImages,
    portsPlannedAndGuarded,
    protectClusterCritical,
    sshKeyAuthOnly,
    verifiedTls,
};

/** Every guardrail by its policy name (the name `--policy-pack-config` uses). */
export const GUARDRAILS: Record<string, GuardrailFactory> = {
    "control-plane-quorum": controlPlaneQuorum,
    "control-plane-anti-affinity": controlPlaneAntiAffinity,
    "admin-ports-not-world-open": adminPortsNotWorldOpen,
    "no-insecure-registries": noInsecureRegistries,
    "pinned-images": pinnedImages,
    "pinned-chart-versions": pinnedChartVersions,
    "etcd-snapshots-enabled": etcdSnapshotsEnabled,
    "credentials-are-secrets": credentialsAreSecrets,
    "protect-cluster-critical": protectClusterCritical,
    "ssh-key-auth-only": sshKeyAuthOnly,
    "verified-tls": verifiedTls,
    "ports-planned-and-guarded": portsPlannedAndGuarded,
};
