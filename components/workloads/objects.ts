// Type-only: the specs are checked field by field against the Kubernetes API types, and no Pulumi loads at run time.
import type * as api from "@pulumi/kubernetes/types/input";
import { imageThroughRegistry, RegistryEndpoint } from "../registry/endpoint";
import { K8sObject } from "../kit/k8s-object";
import { EffectiveWorkload, WorkloadRole } from "./config";

/**
 * Building blocks of the workload object specs: plain Kubernetes objects (apiVersion, kind,
 * metadata, spec) with no Pulumi in them, so they can be unit-tested, dumped and dry-run.
 */

export type { K8sObject } from "../kit/k8s-object";

/** What every role's spec builder needs besides the workload itself. */
export interface WorkloadContext {
    namespace: string;
    /** Spread pods across nodes and keep a PodDisruptionBudget (the prod profile). */
    ha: boolean;
    /** StorageClass of every claim. Defaults to the cluster's default class. */
    storageClass?: string;
    /** IngressClass; an Ingress is made only when this and the workload's ingressHost are set. */
    ingressClass?: string;
    clusterDomain: string;
    /** The platform registry when air-gapped: every image is pulled from it under its mirror path. */
    registry?: RegistryEndpoint<unknown>;
}

/**
 * Credentials a workload needs: fixed values and generated random strings (by length), kept in
 * one Secret. Components generate them as Pulumi secrets; dumps show placeholders.
 */
export interface CredentialSpec {
    secretName: string;
    fixed: Record<string, string>;
    generated: Record<string, number>;
}

export interface WorkloadObjects {
    objects: K8sObject[];
    credentials?: CredentialSpec;
}

/** A Secret holding a workload's credentials; `T` is a string in dumps and an Output in components. */
export function credentialSecret<T>(c: CredentialSpec, ctx: WorkloadContext, values: Record<string, T>, labels: Record<string, string>) {
    return { apiVersion: "v1", kind: "Secret", metadata: { name: c.secretName, namespace: ctx.namespace, labels }, type: "Opaque", stringData: values };
}

/** The image nodes pull: through the air-gapped registry's mirror path, or upstream as given. */
export function pullImage(ref: string, ctx: WorkloadContext): string {
    if (!ctx.registry) return ref;
    const through = imageThroughRegistry(ref, ctx.registry);
    if (through === undefined) throw new Error(`image ${ref}: the air-gapped registry ${ctx.registry.authority} does not serve its registry`);
    return through;
}

export function labelsOf(name: string, role: WorkloadRole): Record<string, string> {
    return { "app.kubernetes.io/name": name, "app.kubernetes.io/component": role, "app.kubernetes.io/managed-by": "groundwork" };
}

export function selectorOf(name: string): Record<string, string> {
    return { "app.kubernetes.io/name": name };
}

export function meta(name: string, ctx: WorkloadContext, labels: Record<string, string>) {
    return { name, namespace: ctx.namespace, labels };
}

/** Requests as configured; the CPU limit is twice the request, memory is capped at the request. */
export function resourcesOf(w: EffectiveWorkload): api.core.v1.ResourceRequirements {
    return { requests: { cpu: `${w.cpuMillis}m`, memory: `${w.memoryMiB}Mi` }, limits: { cpu: `${2 * w.cpuMillis}m`, memory: `${w.memoryMiB}Mi` } };
}

/** Container security: never root, no privilege escalation, no capabilities, read-only root where the image allows. */
export function containerSecurity(readOnlyRootFilesystem: boolean): api.core.v1.SecurityContext {
    return { runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem, capabilities: { drop: ["ALL"] } };
}

/** Pod security: the image's own non-root user, volumes group-owned by it, the runtime's seccomp profile. */
export function podSecurity(uid: number): api.core.v1.PodSecurityContext {
    return { runAsNonRoot: true, runAsUser: uid, runAsGroup: uid, fsGroup: uid, seccompProfile: { type: "RuntimeDefault" } };
}

/** HA only: at most one pod more on any node than on another, counting only nodes the pods may use. */
export function spreadOf(name: string, ctx: WorkloadContext): { topologySpreadConstraints?: api.core.v1.TopologySpreadConstraint[] } {
    if (!ctx.ha) return {};
    return {
        topologySpreadConstraints: [
            { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "DoNotSchedule", nodeTaintsPolicy: "Honor", labelSelector: { matchLabels: selectorOf(name) } },
        ],
    };
}

/** HA with more than one pod: a voluntary disruption (drain, upgrade) takes at most one pod at a time. */
export function disruptionBudget(name: string, w: EffectiveWorkload, ctx: WorkloadContext, labels: Record<string, string>): K8sObject[] {
    if (!ctx.ha || w.replicas < 2) return [];
    return [{ apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: meta(name, ctx, labels), spec: { maxUnavailable: 1, selector: { matchLabels: selectorOf(name) } } satisfies api.policy.v1.PodDisruptionBudgetSpec }];
}

export interface PortSpec {
    name: string;
    port: number;
}

/** A ClusterIP Service; `headless` gives the StatefulSet's stable pod names (published before ready, for peer discovery). */
export function serviceOf(name: string, ctx: WorkloadContext, labels: Record<string, string>, ports: PortSpec[], headless = false): K8sObject {
    const spec: api.core.v1.ServiceSpec = { selector: selectorOf(name), ports: ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.name, protocol: "TCP" })) };
    if (headless) Object.assign(spec, { clusterIP: "None", publishNotReadyAddresses: true });
    return { apiVersion: "v1", kind: "Service", metadata: meta(headless ? `${name}-headless` : name, ctx, labels), spec };
}

/** A claim on the platform's storage class. */
export function claimSpec(gib: number, ctx: WorkloadContext): api.core.v1.PersistentVolumeClaimSpec {
    return { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: `${gib}Gi` } }, ...(ctx.storageClass !== undefined ? { storageClassName: ctx.storageClass } : {}) };
}

/** An Ingress to a Service port, when the workload has a host and the platform an ingress class. */
export function ingressOf(name: string, w: EffectiveWorkload, ctx: WorkloadContext, labels: Record<string, string>, port: string): K8sObject[] {
    if (w.ingressHost === undefined || ctx.ingressClass === undefined) return [];
    return [
        {
            apiVersion: "networking.k8s.io/v1",
            kind: "Ingress",
            metadata: meta(name, ctx, labels),
            spec: {
                ingressClassName: ctx.ingressClass,
                rules: [{ host: w.ingressHost, http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name, port: { name: port } } } }] } }],
            } satisfies api.networking.v1.IngressSpec,
        },
    ];
}

/** A writable scratch directory for a read-only root filesystem. */
export function scratch(volume: string, mountPath: string): { volume: api.core.v1.Volume; mount: api.core.v1.VolumeMount } {
    return { volume: { name: volume, emptyDir: {} }, mount: { name: volume, mountPath } };
}

/**
 * A StatefulSet with one data claim per pod. `podSpec` is merged into the template's spec after
 * the security context and HA spread.
 */
export function statefulSetOf(name: string, w: EffectiveWorkload, ctx: WorkloadContext, labels: Record<string, string>, uid: number, podSpec: api.core.v1.PodSpec): K8sObject {
    return {
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        metadata: meta(name, ctx, labels),
        spec: {
            serviceName: `${name}-headless`,
            replicas: w.replicas,
            podManagementPolicy: "Parallel",
            selector: { matchLabels: selectorOf(name) },
            template: { metadata: { labels }, spec: { securityContext: podSecurity(uid), ...spreadOf(name, ctx), ...podSpec } },
            volumeClaimTemplates: [{ metadata: { name: "data", labels }, spec: claimSpec(w.storageGiB ?? 1, ctx) }],
        } satisfies api.apps.v1.StatefulSetSpec,
    };
}
