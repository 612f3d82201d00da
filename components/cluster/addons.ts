import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { K8sObject } from "../kit/k8s-object";
import { createObject, kindSuffix } from "../kit/k8s-resource";
import { ClusterConfig } from "./config";
import { SNAPSHOT_NAMESPACE, SNAPSHOT_S3_SECRET, SNAPSHOT_SCRIPT, snapshotCronJobSpec } from "./etcd-snapshot";
import { FlannelManifestInput, flannelObjects } from "./flannel";
import { AddonChart, chartPin, selectedCharts, VSPHERE_CSI_IMAGES } from "./versions";

/** The Secret (in kube-system, key `cloud.conf`) both OpenStack charts read: their `secret.name`. */
export const OPENSTACK_CLOUD_CONFIG_SECRET = "cloud-config";

/** Credentials the cloud integrations and snapshots need; each is a Pulumi secret. */
export interface AddonCredentials {
    /** OpenStack `cloud.conf` for the CCM and Cinder CSI. Defaults to an existing Secret `cloud-config` in kube-system. */
    openstackCloudConf?: pulumi.Input<string>;
    /** vCenter for the vSphere CPI and CSI. Required when vSphere machines exist and cloud integration is on. */
    vsphere?: { server: string; datacenter: string; user: string; password: pulumi.Input<string>; insecure?: boolean };
    /** S3 keys for etcd snapshots. Defaults to an existing Secret `etcd-snapshot-s3` in kube-system. */
    etcdSnapshotS3?: { accessKeyId: pulumi.Input<string>; secretAccessKey: pulumi.Input<string> };
}

export interface ClusterAddonsArgs {
    config: ClusterConfig;
    /** The cluster's provider (built from the admin kubeconfig, after the API answers). */
    provider: k8s.Provider;
    /** Backends of the cluster's machines: decide the cloud integrations and MetalLB. */
    backends: string[];
    clusterName: string;
    /** MetalLB's L2 pool (`first-last`) from the IP plan. */
    loadBalancerRange?: string;
    /** Registry for the etcd image (as kubeadm's). */
    imageRepository: string;
    /** ClusterSettings.flannel: what flannel's manifest is rendered from. Required when cluster.cni.kind is flannel. */
    flannel?: FlannelManifestInput;
    credentials?: AddonCredentials;
}

/** Where a chart comes from: its upstream repository, or cluster.chartRepository (Helm or OCI) for air-gap. */
export function chartSource(config: ClusterConfig, which: AddonChart): { chart: string; version: string; repositoryOpts?: { repo: string } } {
    const pin = chartPin(config, which);
    const repo = config.chartRepository?.replace(/\/+$/, "");
    if (repo?.startsWith("oci://")) return { chart: `${repo}/${pin.chart}`, version: pin.version };
    return { chart: pin.chart, version: pin.version, repositoryOpts: { repo: repo ?? pin.repo } };
}

/**
 * Calico's encapsulation: always VXLAN when a node is on OpenStack, whose port security drops
 * any packet whose source is not the port's own address (a natively routed pod address);
 * VXLAN only across subnets otherwise (plain L2 passes pod addresses).
 */
export function calicoEncapsulation(backends: Iterable<string>): "VXLAN" | "VXLANCrossSubnet" {
    return new Set(backends).has("openstack") ? "VXLAN" : "VXLANCrossSubnet";
}

/**
 * Helm values per chart (pure; credentials are referenced by Secret name, never inlined here).
 * `backends` are the cluster's machine backends (they decide Calico's encapsulation). Cilium
 * always tunnels over VXLAN (UDP 8472, its chart's default made explicit), so no pod address
 * leaves a node's port unencapsulated on any backend.
 */
export function chartValues(config: ClusterConfig, which: AddonChart, clusterName: string, backends: Iterable<string> = []): Record<string, unknown> {
    switch (which) {
        case "calico":
            return { installation: { calicoNetwork: { ipPools: [{ cidr: config.podCidr, encapsulation: calicoEncapsulation(backends), natOutgoing: "Enabled", nodeSelector: "all()" }] } } };
        case "cilium":
            return { ipam: { mode: "cluster-pool", operator: { clusterPoolIPv4PodCIDRList: [config.podCidr] } }, routingMode: "tunnel", tunnelProtocol: "vxlan", kubeProxyReplacement: false, hubble: { enabled: false } };
        case "openstackCcm":
            return { secret: { enabled: true, create: false, name: OPENSTACK_CLOUD_CONFIG_SECRET }, cluster: { name: clusterName } };
        case "cinderCsi":
            return { secret: { enabled: true, create: false, name: OPENSTACK_CLOUD_CONFIG_SECRET, filename: "cloud.conf" }, clusterID: clusterName };
        case "vsphereCpi":
            return { config: { enabled: false }, secret: { name: "vsphere-cpi-config" } };
        case "vsphereCsi": {
            const values: Record<string, unknown> = { global: { config: { existingSecret: "vsphere-config-secret" } } };
            for (const [key, image] of Object.entries(VSPHERE_CSI_IMAGES)) setPath(values, key.split("."), imageValues(image));
            return values;
        }
        case "metallb":
            return { speaker: { frr: { enabled: false } } };
        default: {
            const unknown: never = which;
            throw new Error(`unknown chart ${String(unknown)}`);
        }
    }
}

/** `registry.k8s.io/sig-storage/csi-attacher:v4.8.1` as a chart's image values: registry, repository, tag. */
export function imageValues(image: string): { registry: string; repository: string; tag: string } {
    const colon = image.lastIndexOf(":");
    const slash = image.indexOf("/");
    return { registry: image.slice(0, slash), repository: image.slice(slash + 1, colon), tag: image.slice(colon + 1) };
}

/** Sets obj.a.b.c = value, making the objects on the way. */
function setPath(obj: Record<string, unknown>, keys: string[], value: unknown): void {
    let at = obj;
    for (const k of keys.slice(0, -1)) at = (at[k] ??= {}) as Record<string, unknown>;
    at[keys[keys.length - 1]] = value;
}

/** A gcfg (INI) quoted value, as the cloud providers' config readers parse it. */
function gcfgQuote(s: string): string {
    return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** What the OpenStack cloud controller and Cinder CSI log in with: a Keystone application credential. */
export interface OpenStackCloudCredentials {
    authUrl: string;
    /** Defaults to none (the catalog's only region). */
    region?: string;
    applicationCredentialId: string;
    applicationCredentialSecret: string;
}

/**
 * `cloud.conf` for the OpenStack cloud controller and Cinder CSI (both read the key `cloud.conf`
 * of the Secret `cloud-config`); the credential makes the whole text a secret.
 */
export function renderOpenStackCloudConf(o: OpenStackCloudCredentials): string {
    return [
        "[Global]",
        `auth-url = ${gcfgQuote(o.authUrl)}`,
        `application-credential-id = ${gcfgQuote(o.applicationCredentialId)}`,
        `application-credential-secret = ${gcfgQuote(o.applicationCredentialSecret)}`,
        ...(o.region === undefined ? [] : [`region = ${gcfgQuote(o.region)}`]),
        "",
    ].join("\n");
}

/** vSphere's INI for the CSI driver; the password makes the whole text a secret. */
export function renderVsphereConf(v: { server: string; datacenter: string; user: string; password: string; insecure: boolean }, clusterName: string): string {
    const q = gcfgQuote;
    return [
        "[Global]",
        `cluster-id = ${q(clusterName)}`,
        "",
        `[VirtualCenter ${q(v.server)}]`,
        `insecure-flag = ${q(String(v.insecure))}`,
        `user = ${q(v.user)}`,
        `password = ${q(v.password)}`,
        'port = "443"',
        `datacenters = ${q(v.datacenter)}`,
        "",
    ].join("\n");
}

/**
 * flannel's objects as typed resources named `<prefix>-<kind>`: the namespaced ones after the
 * namespace, the DaemonSet after everything its pods read (service account, RBAC, ConfigMap).
 */
function applyFlannel(prefix: string, objects: K8sObject[], opts: pulumi.CustomResourceOptions): pulumi.CustomResource[] {
    const [namespace, ...rest] = objects;
    const ns = createObject(namespace, `${prefix}-${kindSuffix(namespace)}`, opts);
    const made = [ns];
    for (const o of rest) {
        const before = o.kind === "DaemonSet" ? made : o.metadata.namespace === undefined ? [] : [ns];
        made.push(createObject(o, `${prefix}-${kindSuffix(o)}`, { ...opts, dependsOn: [...before] }));
    }
    return made;
}

/** CNI, cloud integrations, MetalLB and etcd snapshots, all through the cluster's provider. */
export class ClusterAddons extends pulumi.ComponentResource {
    public readonly releases: Record<string, k8s.helm.v3.Release> = {};
    /** flannel's objects (namespace first, DaemonSet last) when it is the CNI; empty otherwise. */
    public readonly flannel: pulumi.CustomResource[] = [];

    constructor(name: string, args: ClusterAddonsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("groundwork:cluster:Addons", name, {}, opts);
        const c = args.config;
        const child = { parent: this, provider: args.provider };
        const creds = args.credentials ?? {};
        const charts = selectedCharts(c, new Set(args.backends));
        const kubeSystemSecret = (role: string, secretName: string, data: Record<string, pulumi.Input<string>>) =>
            new k8s.core.v1.Secret(`${name}-${role}`, { metadata: { name: secretName, namespace: "kube-system" }, stringData: pulumi.secret(data) as pulumi.Input<Record<string, pulumi.Input<string>>> }, child);

        if (c.cni.kind === "flannel") {
            if (args.flannel === undefined) throw new pulumi.ResourceError("flannel settings are required: cluster.cni.kind is flannel (pass ClusterSettings.flannel)", this);
            this.flannel = applyFlannel(`${name}-flannel`, flannelObjects(args.flannel), child);
        }

        const needs: Record<string, pulumi.Resource[]> = {};
        if (charts.includes("openstackCcm") && creds.openstackCloudConf !== undefined) {
            const s = kubeSystemSecret("openstack-cloud-config", OPENSTACK_CLOUD_CONFIG_SECRET, { "cloud.conf": creds.openstackCloudConf });
            needs.openstackCcm = needs.cinderCsi = [s];
        }
        if (charts.includes("vsphereCpi")) {
            const v = creds.vsphere;
            if (v === undefined) throw new pulumi.ResourceError("credentials.vsphere is required: vSphere machines exist and cluster.addons.cloudIntegration is on", this);
            const conf = pulumi.output(v.password).apply((password) => renderVsphereConf({ ...v, password, insecure: v.insecure ?? false }, args.clusterName));
            needs.vsphereCpi = [
                kubeSystemSecret("vsphere-cpi-config", "vsphere-cpi-config", { [`${v.server}.username`]: v.user, [`${v.server}.password`]: v.password }),
            ];
            const csiNs = new k8s.core.v1.Namespace(`${name}-vsphere-csi-ns`, { metadata: { name: chartPin(c, "vsphereCsi").namespace } }, child);
            new k8s.core.v1.Secret(`${name}-vsphere-csi-config`, { metadata: { name: "vsphere-config-secret", namespace: csiNs.metadata.name }, stringData: { "csi-vsphere.conf": pulumi.secret(conf) } }, child);
            // The driver's pods wait for the Secret on their own; the release needs only the namespace.
            needs.vsphereCsi = [csiNs];
        }

        for (const which of charts) {
            const pin = chartPin(c, which);
            const src = chartSource(c, which);
            this.releases[which] = new k8s.helm.v3.Release(
                `${name}-${which}`,
                { name: pin.chart, namespace: pin.namespace, createNamespace: pin.namespace !== "kube-system" && which !== "vsphereCsi", ...src, values: chartValues(c, which, args.clusterName, args.backends), timeout: 900 },
                { ...child, dependsOn: needs[which] ?? [] },
            );
        }

        if (charts.includes("metallb")) {
            const range = args.loadBalancerRange;
            if (range === undefined) throw new pulumi.ResourceError("network.loadBalancerPool: is required when MetalLB runs", this);
            const after = { ...child, dependsOn: [this.releases.metallb] };
            new k8s.apiextensions.CustomResource(`${name}-metallb-pool`, { apiVersion: "metallb.io/v1beta1", kind: "IPAddressPool", metadata: { name: "groundwork", namespace: "metallb-system" }, spec: { addresses: [range] } }, after);
            new k8s.apiextensions.CustomResource(`${name}-metallb-l2`, { apiVersion: "metallb.io/v1beta1", kind: "L2Advertisement", metadata: { name: "groundwork", namespace: "metallb-system" }, spec: { ipAddressPools: ["groundwork"] } }, after);
        }

        const snap = c.addons.etcdSnapshots;
        if (snap.enabled) {
            if (snap.target.kind === "s3" && creds.etcdSnapshotS3 !== undefined) {
                kubeSystemSecret("etcd-snapshot-s3", SNAPSHOT_S3_SECRET, { accessKeyId: creds.etcdSnapshotS3.accessKeyId, secretAccessKey: creds.etcdSnapshotS3.secretAccessKey });
            }
            // A CronJob only names its ConfigMap and Secret; the first run is hours away, so all three go in parallel.
            new k8s.core.v1.ConfigMap(`${name}-etcd-snapshot-script`, { metadata: { name: "etcd-snapshot-script", namespace: SNAPSHOT_NAMESPACE }, data: { "snapshot.sh": SNAPSHOT_SCRIPT } }, child);
            new k8s.batch.v1.CronJob(`${name}-etcd-snapshot`, { metadata: { name: "etcd-snapshot", namespace: SNAPSHOT_NAMESPACE }, spec: snapshotCronJobSpec(c, args.imageRepository, "etcd-snapshot-script") }, child);
        }
        this.registerOutputs({ charts: charts.map((w) => `${chartPin(c, w).chart}@${chartPin(c, w).version}`) });
    }
}
