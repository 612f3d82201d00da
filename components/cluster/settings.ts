import * as pulumi from "@pulumi/pulumi";
import { BootstrapIdentity, BootstrapPart, renderBootstrapScript, renderUserData } from "../engine/bootstrap";
import { EngineKind } from "../engine/config";
import { Bootstrap, MachineSpec } from "../machines/machine";
import { ClusterConfig } from "./config";
import { ClusterSettings, NodeSecrets } from "./kubeadm";
import { clusterParts } from "./parts";
import { bareVersion, DEFAULT_IMAGE_REPOSITORY, KUBE_VIP_IMAGE } from "./versions";

export interface ClusterSettingsInput {
    config: ClusterConfig;
    /** Cluster name (the platform name). */
    clusterName: string;
    /** The control-plane VIP from the IP plan (kube-vip mode). */
    vip?: string;
    /** The engine every node runs. Defaults to containerd. */
    engine?: EngineKind;
    /** Registry kubeadm and kube-vip pull from (the internal registry when air-gapped). Defaults to registry.k8s.io. */
    imageRepository?: string;
    /** kube-vip's image as nodes pull it (the registry's path for ghcr.io's when air-gapped). Defaults to KUBE_VIP_IMAGE. */
    kubeVipImage?: string;
    /** Backends of all machines (decides which nodes run with an external cloud provider). Defaults to none. */
    backends?: Iterable<string>;
}

/** Resolves the cluster section of the config into the plain settings every renderer takes. */
export function clusterSettings(i: ClusterSettingsInput): ClusterSettings {
    const c = i.config;
    const kubeVip = c.controlPlaneEndpoint.mode === "kube-vip";
    const host = kubeVip ? i.vip : c.controlPlaneEndpoint.address;
    if (host === undefined) throw new Error(kubeVip ? "network.vip: is required when cluster.controlPlaneEndpoint.mode is kube-vip" : "cluster.controlPlaneEndpoint.address: is required when mode is external");
    const imageRepository = i.imageRepository ?? DEFAULT_IMAGE_REPOSITORY;
    const backends = new Set(i.backends ?? []);
    const cloud = c.addons.cloudIntegration ? ["openstack", "vsphere"].filter((b) => backends.has(b)) : [];
    return {
        clusterName: i.clusterName,
        kubernetesVersion: bareVersion(c.kubernetesVersion),
        podCidr: c.podCidr,
        serviceCidr: c.serviceCidr,
        dnsDomain: c.clusterDomain,
        endpoint: { host, port: c.controlPlaneEndpoint.port },
        kubeVip: kubeVip ? { image: i.kubeVipImage ?? KUBE_VIP_IMAGE } : undefined,
        imageRepository,
        engine: i.engine ?? "containerd",
        packageSource: { kind: c.packageSource.kind, url: c.packageSource.url, trusted: c.packageSource.trusted },
        externalCloudBackends: cloud,
    };
}

export interface NodeBootstrapArgs {
    settings: ClusterSettings;
    spec: MachineSpec;
    /** Name of the control plane that runs `kubeadm init` (see firstControlPlane). */
    firstControlPlane: string;
    /** ClusterSecrets.nodeSecrets(). */
    secrets: pulumi.Input<NodeSecrets>;
    identity: BootstrapIdentity;
    /** Parts that run before the cluster's (the engine's). Defaults to none. */
    before?: pulumi.Input<BootstrapPart[]>;
    /** Parts that run after the cluster's. Defaults to none. */
    after?: pulumi.Input<BootstrapPart[]>;
}

/**
 * A machine's whole bootstrap with the cluster parts in it. It carries the token (and the CA key
 * on control planes), so script and user-data are secret Outputs.
 */
export function clusterBootstrap(a: NodeBootstrapArgs): Bootstrap {
    const script = pulumi.secret(
        pulumi.all([a.secrets, a.before ?? [], a.after ?? []]).apply(([secrets, before, after]) =>
            renderBootstrapScript(a.identity, [...before, ...clusterParts(a.settings, a.spec, a.firstControlPlane, secrets), ...after]),
        ),
    );
    return { script, userData: pulumi.secret(script.apply((s) => renderUserData(a.identity, s))) };
}
