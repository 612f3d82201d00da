import type * as api from "@pulumi/kubernetes/types/input";
import { EffectiveWorkload, WORKLOAD_IMAGES } from "./config";
import { containerSecurity, disruptionBudget, ingressOf, K8sObject, labelsOf, meta, podSecurity, pullImage, resourcesOf, scratch, selectorOf, serviceOf, spreadOf, WorkloadContext, WorkloadObjects } from "./objects";

/** Where nginx serves from, and where a static site's content image keeps its files. */
export const SITE_ROOT = "/usr/share/nginx/html";
/** nginx-unprivileged's user and port. */
const NGINX_UID = 101;
/** A non-root user for images that run as root by default (http-echo is a static binary on scratch). */
const API_UID = 65532;
const HTTP_PORT = 8080;

function deployment(name: string, ctx: WorkloadContext, labels: Record<string, string>, uid: number, replicas: number | undefined, podSpec: api.core.v1.PodSpec): K8sObject {
    return {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: meta(name, ctx, labels),
        spec: {
            ...(replicas !== undefined ? { replicas } : {}),
            selector: { matchLabels: selectorOf(name) },
            template: { metadata: { labels }, spec: { securityContext: podSecurity(uid), ...spreadOf(name, ctx), ...podSpec } },
        } satisfies api.apps.v1.DeploymentSpec,
    };
}

const probe: api.core.v1.Probe = { tcpSocket: { port: "http" }, periodSeconds: 10 };

/**
 * A static site: nginx (unprivileged, read-only root) serving files that an init container copies
 * from the content image's SITE_ROOT (the image needs `/bin/sh` and `cp`, as nginx- or busybox-based
 * images have). The default content is nginx's own page.
 */
export function staticSiteObjects(name: string, w: EffectiveWorkload, ctx: WorkloadContext): WorkloadObjects {
    const labels = labelsOf(name, "static-site");
    const tmp = scratch("tmp", "/tmp");
    const site = { name: "site", emptyDir: {} };
    const pod: api.core.v1.PodSpec = {
        initContainers: [
            {
                name: "content",
                image: pullImage(w.image, ctx),
                command: ["/bin/sh", "-c", `cp -R ${SITE_ROOT}/. /site/`],
                securityContext: containerSecurity(true),
                resources: resourcesOf(w),
                volumeMounts: [{ name: "site", mountPath: "/site" }],
            },
        ],
        containers: [
            {
                name: "web",
                image: pullImage(w.webServerImage ?? WORKLOAD_IMAGES.webServer, ctx),
                ports: [{ name: "http", containerPort: HTTP_PORT, protocol: "TCP" }],
                securityContext: containerSecurity(true),
                resources: resourcesOf(w),
                readinessProbe: probe,
                volumeMounts: [{ name: "site", mountPath: SITE_ROOT, readOnly: true }, tmp.mount],
            },
        ],
        volumes: [site, tmp.volume],
    };
    return {
        objects: [
            deployment(name, ctx, labels, NGINX_UID, w.replicas, pod),
            serviceOf(name, ctx, labels, [{ name: "http", port: 80 }]),
            ...disruptionBudget(name, w, ctx, labels),
            ...ingressOf(name, w, ctx, labels, "http"),
        ],
    };
}

/**
 * A web front end or API on port 8080 (`http`): Deployment, Service, HorizontalPodAutoscaler
 * (profile replicas to three times that, at 70 % CPU), and in HA a PodDisruptionBudget. The
 * default image is http-echo answering with the workload's name.
 */
export function webApiObjects(name: string, w: EffectiveWorkload, ctx: WorkloadContext): WorkloadObjects {
    const labels = labelsOf(name, "web-api");
    const tmp = scratch("tmp", "/tmp");
    const args = w.image === WORKLOAD_IMAGES.webApi ? { args: [`-listen=:${HTTP_PORT}`, `-text=${name}`] } : {};
    const pod: api.core.v1.PodSpec = {
        containers: [
            {
                name: "api",
                image: pullImage(w.image, ctx),
                ...args,
                ports: [{ name: "http", containerPort: HTTP_PORT, protocol: "TCP" }],
                securityContext: containerSecurity(true),
                resources: resourcesOf(w),
                readinessProbe: probe,
                volumeMounts: [tmp.mount],
            },
        ],
        volumes: [tmp.volume],
    };
    const hpa: K8sObject = {
        apiVersion: "autoscaling/v2",
        kind: "HorizontalPodAutoscaler",
        metadata: meta(name, ctx, labels),
        spec: {
            scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name },
            minReplicas: w.replicas,
            maxReplicas: w.replicas * 3,
            metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } }],
        } satisfies api.autoscaling.v2.HorizontalPodAutoscalerSpec,
    };
    return {
        objects: [
            // The autoscaler owns the replica count: setting it here too would reset it on every update.
            deployment(name, ctx, labels, API_UID, undefined, pod),
            serviceOf(name, ctx, labels, [{ name: "http", port: 80 }]),
            hpa,
            ...disruptionBudget(name, w, ctx, labels),
            ...ingressOf(name, w, ctx, labels, "http"),
        ],
    };
}
