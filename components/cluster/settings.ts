import * as pulumi from "@pulumi/pulumi";
import { BootstrapIdentity, BootstrapPart, partDigests, renderBootstrapScript, renderResetScript, renderUserData, ResetMode } from "../engine/bootstrap";
import { EngineConfig, EngineKind } from "../engine/config";
import { noProxyList } from "../engine/render-host";
import { Bootstrap, MachineSpec } from "../machines/machine";
import { ClusterConfig } from "./config";
import { ClusterSettings, ClusterTrust } from "./kubeadm";
import { clusterParts } from "./parts";
import { FlannelManifestInput, flannelOptionsOf } from "./flannel";
import { bareVersion, DEFAULT_IMAGE_REPOSITORY, flannelImages, KUBE_VIP_IMAGE } from "./versions";

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
    /** flannel's images as nodes pull them (the registry's paths when air-gapped). Defaults to flannelImages(config), upstream. */
    flannelImages?: { flannel: string; cniPlugin: string };
    /** Backends of all machines (decides which nodes run with an external cloud provider). Defaults to none. */
    backends?: Iterable<string>;
    /** The nodes' engine config: its proxy and OS package mirror serve the Kubernetes downloads too. Defaults to none. */
    engineConfig?: EngineConfig;
    /** no_proxy entries the platform adds (node subnet, pod and service CIDRs, …). Defaults to none. */
    noProxy?: string[];
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
        flannel: c.cni.kind === "flannel" ? flannelSettings(c, i.flannelImages ?? flannelImages(c)) : undefined,
        imageRepository,
        engine: i.engine ?? "containerd",
        packageSource: { kind: c.packageSource.kind, url: c.packageSource.url, trusted: c.packageSource.trusted },
        externalCloudBackends: cloud,
        downloads: downloadSettings(i.engineConfig, i.noProxy),
        ...(Object.values(c.tuning).some((v) => v !== undefined) ? { tuning: { ...c.tuning } } : {}),
        certificates: { ...c.certificates },
    };
}

function flannelSettings(c: ClusterConfig, images: { flannel: string; cniPlugin: string }): FlannelManifestInput {
    const o = flannelOptionsOf(c.cni);
    return { podCidr: c.podCidr, vni: o.vni, port: o.port, ...(o.iface === undefined ? {} : { iface: o.iface }), image: images.flannel, cniPluginImage: images.cniPlugin };
}

function downloadSettings(engine: EngineConfig | undefined, noProxy: string[] | undefined): ClusterSettings["downloads"] {
    if (engine === undefined) return undefined;
    const p = engine.proxy;
    const proxy = p !== undefined && (p.http !== undefined || p.https !== undefined) ? { http: p.http, https: p.https, noProxy: noProxyList(engine, noProxy) } : undefined;
    const osMirror = engine.packageSource.kind === "mirror" ? engine.packageSource : undefined;
    return proxy === undefined && osMirror === undefined ? undefined : { ...(proxy ? { proxy } : {}), ...(osMirror ? { osMirror } : {}) };
}

export interface NodeBootstrapArgs {
    settings: ClusterSettings;
    spec: MachineSpec;
    /** Name of the control plane that runs `kubeadm init` (see firstControlPlane). */
    firstControlPlane: string;
    /** ClusterSecrets.trust(): the CA certificate and its hash, nothing secret. */
    trust: pulumi.Input<ClusterTrust>;
    identity: BootstrapIdentity;
    /**
     * OpenSSH public key added to the login user's keys: the program's deploy key, with which it
     * delivers join material over SSH. Defaults to none (bare metal: the configured SSH key).
     */
    deployKey?: pulumi.Input<string>;
    /** Parts that run before the cluster's (the engine's). Defaults to none. */
    before?: pulumi.Input<BootstrapPart[]>;
    /** Parts that run after the cluster's. Defaults to none. */
    after?: pulumi.Input<BootstrapPart[]>;
    /** Bare metal: render the host's reset script in this mode (Bootstrap.reset). Defaults to none. */
    resetMode?: ResetMode;
}

/**
 * A machine's whole bootstrap with the cluster parts in it. It carries no join material (that
 * comes over SSH, see join.ts), so it is secret only when other parts are (a registry password).
 */
export function clusterBootstrap(a: NodeBootstrapArgs): Bootstrap {
    const identity = pulumi.output(a.deployKey).apply((key) => (key === undefined ? a.identity : { ...a.identity, sshAuthorizedKeys: [...a.identity.sshAuthorizedKeys, key.trim()] }));
    const parts = pulumi.all([a.trust, a.before ?? [], a.after ?? []]).apply(([trust, before, after]) => [...before, ...clusterParts(a.settings, a.spec, a.firstControlPlane, trust), ...after]);
    const script = pulumi.all([identity, parts]).apply(([id, p]) => renderBootstrapScript(id, p));
    const mode = a.resetMode;
    return {
        script,
        userData: pulumi.all([identity, script]).apply(([id, s]) => renderUserData(id, s)),
        digests: pulumi.unsecret(pulumi.all([identity, parts]).apply(([id, p]) => partDigests(id, p))),
        ...(mode !== undefined ? { reset: parts.apply((p) => renderResetScript(a.spec.name, p, mode)) } : {}),
    };
}
