import { ClusterSettings } from "../cluster/kubeadm";
import { clusterSettings } from "../cluster/settings";
import { flannelImages, KUBE_VIP_IMAGE, pauseImage } from "../cluster/versions";
import { EngineConfig } from "../engine/config";
import { EngineOptions } from "../engine/engines";
import { RegistryAuth } from "../engine/render-containerd";
import { clusterRegistryWiring, engineWithRegistry, imageThroughRegistry, RegistryEndpoint, registryEndpoint } from "../registry/endpoint";
import { K8sObject, WorkloadContext } from "../workloads/objects";
import { appsObjects, workloadContext } from "../workloads/specs";
import { PlatformSpec } from "./config";

/**
 * How the layers feed each other on every node, as pure functions of the spec. The Platform
 * component (with generated values) and `groundwork render` (with placeholders) both call these,
 * so what a change board previews is what machines get.
 */

/** Whether nodes are wired to a platform registry: standalone always, Harbor only when the cluster is built. */
export function registryWired(spec: PlatformSpec): boolean {
    const mode = spec.config.registry.mode;
    return mode === "standalone" || (mode === "harbor" && spec.config.upTo === "all");
}

/** The registry endpoint nodes use (CA as given), or undefined when none is wired. */
export function nodeRegistry<C>(spec: PlatformSpec, caPem: C): RegistryEndpoint<C> | undefined {
    return registryWired(spec) ? registryEndpoint(spec.config.registry, spec.machines, caPem) : undefined;
}

/** no_proxy entries the platform knows: node subnet, pod and service CIDRs, cluster domain, VIP, registry. */
export function platformNoProxy(spec: PlatformSpec, endpoint?: RegistryEndpoint<unknown>): string[] {
    const c = spec.config;
    const hosts = [spec.ipPlan.cidr, c.cluster.podCidr, c.cluster.serviceCidr, ".svc", `.${c.cluster.clusterDomain}`, ...(spec.ipPlan.vip ? [spec.ipPlan.vip] : [])];
    return endpoint ? [...hosts, endpoint.host] : hosts;
}

/**
 * Every node's engine config and options: the registry (when wired) as first mirror and trusted
 * CA, the sandbox image from it when air-gapped, its credential in containerd, the no_proxy list;
 * air-gapped, no registry host falls back to its upstream. The sandbox image is the pause image of
 * the cluster's Kubernetes minor unless engine.sandboxImage says otherwise.
 */
export function nodeEngine(spec: PlatformSpec, registry?: { caPem: string; auth?: RegistryAuth }): { engine: EngineConfig; engineOptions: EngineOptions } {
    const endpoint = registry ? nodeRegistry(spec, registry.caPem) : undefined;
    return {
        engine: engineWithRegistry(nodeSandbox(spec), endpoint),
        engineOptions: { noProxy: platformNoProxy(spec, endpoint), imageRepository: endpoint?.imageRepository, registryAuth: registry?.auth, airGapped: spec.config.registry.airGapped },
    };
}

/** The engine config with its sandbox image resolved: as configured, else the pause of the cluster's minor. */
export function nodeSandbox(spec: PlatformSpec): PlatformSpec["config"]["engine"] {
    const engine = spec.config.engine;
    const sandboxImage = engine.sandboxImage ?? pauseImage(spec.config.cluster.kubernetesVersion);
    return sandboxImage === undefined ? engine : { ...engine, sandboxImage };
}

/** The cluster settings every node's kubeadm parts are rendered with (and the add-ons' manifests: flannel's). */
export function nodeClusterSettings(spec: PlatformSpec): ClusterSettings {
    const c = spec.config;
    const endpoint = nodeRegistry(spec, "");
    const { imageRepository } = clusterRegistryWiring(endpoint);
    // kube-vip and flannel live on ghcr.io: air-gapped, nodes pull them from the registry's path for ghcr.io (not the
    // registry.k8s.io one); upstream when the registry does not serve ghcr.io (containerd's mirrors still apply).
    const pulled = (ref: string) => (imageRepository !== undefined && endpoint ? imageThroughRegistry(ref, endpoint) : undefined) ?? ref;
    const flannel = flannelImages(c.cluster);
    return clusterSettings({
        config: c.cluster,
        clusterName: c.name,
        vip: spec.ipPlan.vip,
        engine: c.engine.kind,
        imageRepository,
        kubeVipImage: pulled(KUBE_VIP_IMAGE),
        flannelImages: { flannel: pulled(flannel.flannel), cniPlugin: pulled(flannel.cniPlugin) },
        backends: new Set(spec.machines.map((m) => m.backend)),
        engineConfig: c.engine,
        noProxy: platformNoProxy(spec, nodeRegistry(spec, "")),
    });
}

/** Whether the stack deploys workloads: the cluster is built and apps.workloads names some. */
export function workloadsDeployed(spec: PlatformSpec): boolean {
    return spec.config.upTo === "all" && Object.keys(spec.config.apps.workloads).length > 0;
}

/** The workloads' context: profile HA, classes, cluster domain, and the registry when air-gapped (images rewritten to it). */
export function stackWorkloadContext(spec: PlatformSpec): WorkloadContext {
    const c = spec.config;
    const endpoint = c.registry.airGapped ? nodeRegistry(spec, "") : undefined;
    return workloadContext(c.apps, { clusterDomain: c.cluster.clusterDomain, ...(endpoint ? { registry: endpoint } : {}) });
}

/** Every Kubernetes object the stack's workloads create, as plain data (generated credentials as placeholders). */
export function stackWorkloadObjects(spec: PlatformSpec): K8sObject[] {
    return workloadsDeployed(spec) ? appsObjects(spec.config.apps, stackWorkloadContext(spec)) : [];
}
