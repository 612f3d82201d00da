import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { RegistryConfig } from "./config";
import { DEFAULT_HARBOR_PORT } from "./endpoint";
import { DEFAULT_HARBOR_CHART_REPOSITORY, HARBOR_SECRETS, harborValues, PROXY_CACHE_JOB_IMAGE, renderProxyCacheScript } from "./render-harbor";
import { issueRegistryTls } from "./tls";

export interface HarborArgs {
    /** The registry config (mode harbor); `hostname` is required. */
    config: RegistryConfig;
    /** Provider of the cluster Harbor runs on (the cluster layer's kubeconfig). */
    provider: k8s.Provider;
    /** Helm repository of the chart. Defaults to https://helm.goharbor.io (cluster.chartRepository overrides it in air-gap). */
    chartRepository?: string;
    /** Namespace Harbor runs in. Defaults to `harbor`. */
    namespace?: string;
    /**
     * A certificate the user gives (registry.harbor.tls: provided): PEMs of the server certificate,
     * its key (a secret) and the CA that signed it. Defaults to a CA generated with @pulumi/tls.
     */
    tls?: { certPem: pulumi.Input<string>; keyPem: pulumi.Input<string>; caPem: pulumi.Input<string> };
}

/**
 * Harbor on the cluster through its pinned Helm chart: TLS from our CA (or the user's certificate),
 * a generated admin password that only ever lives in a Kubernetes Secret, persistence through the
 * configured StorageClass, and proxy-cache projects made by a Job calling Harbor's API.
 */
export class Harbor extends pulumi.ComponentResource {
    /** PEM of the CA that signed Harbor's certificate; nodes trust it. */
    public readonly caPem: pulumi.Output<string>;
    /** Harbor's admin password (a secret). */
    public readonly adminPassword: pulumi.Output<string>;
    public readonly url: string;
    public readonly release: k8s.helm.v3.Release;

    constructor(name: string, args: HarborArgs, opts?: pulumi.ComponentResourceOptions) {
        super("groundwork:registry:Harbor", name, {}, opts);
        const c = args.config;
        if (c.hostname === undefined) throw new pulumi.ResourceError("platform.registry.hostname: is required when registry.mode is harbor", this);
        const hostname = c.hostname;
        const port = c.port ?? DEFAULT_HARBOR_PORT;
        const ns = args.namespace ?? "harbor";
        const child = { parent: this };
        const k = { parent: this, provider: args.provider };
        this.url = port === 443 ? `https://${hostname}` : `https://${hostname}:${port}`;

        const namespace = new k8s.core.v1.Namespace(`${name}-namespace`, { metadata: { name: ns } }, k);
        const inNs = { ...k, dependsOn: [namespace] };

        const admin = new random.RandomPassword(`${name}-admin-password`, { length: 24, special: false }, child);
        // Harbor's encryption key must be exactly 16 characters.
        const secretKey = new random.RandomPassword(`${name}-secret-key`, { length: 16, special: false }, child);
        this.adminPassword = pulumi.secret(admin.result);

        const material = args.tls ?? issueRegistryTls(`${name}-tls`, [hostname], this);
        this.caPem = pulumi.output(material.caPem);

        const adminSecret = new k8s.core.v1.Secret(
            `${name}-admin`,
            { metadata: { name: HARBOR_SECRETS.admin, namespace: ns }, type: "Opaque", stringData: { [HARBOR_SECRETS.adminKey]: this.adminPassword } },
            inNs,
        );
        const keySecret = new k8s.core.v1.Secret(
            `${name}-secret-key`,
            { metadata: { name: HARBOR_SECRETS.secretKey, namespace: ns }, type: "Opaque", stringData: { secretKey: pulumi.secret(secretKey.result) } },
            inNs,
        );
        const tlsSecret = new k8s.core.v1.Secret(
            `${name}-tls`,
            {
                metadata: { name: HARBOR_SECRETS.tls, namespace: ns },
                type: "kubernetes.io/tls",
                stringData: { "tls.crt": material.certPem, "tls.key": pulumi.secret(material.keyPem), "ca.crt": material.caPem },
            },
            inNs,
        );
        const caSecret = new k8s.core.v1.Secret(`${name}-ca`, { metadata: { name: HARBOR_SECRETS.ca, namespace: ns }, type: "Opaque", stringData: { "ca.crt": material.caPem } }, inNs);

        this.release = new k8s.helm.v3.Release(
            `${name}-release`,
            {
                name: "harbor",
                chart: "harbor",
                version: c.harbor.chartVersion,
                namespace: ns,
                repositoryOpts: { repo: args.chartRepository ?? DEFAULT_HARBOR_CHART_REPOSITORY },
                values: harborValues(c, hostname, port),
                // Wait for Harbor to be ready: the proxy-cache Job talks to its API.
                skipAwait: false,
                timeout: 900,
            },
            { ...k, dependsOn: [namespace, adminSecret, keySecret, tlsSecret, caSecret] },
        );

        if (c.proxyCache.length > 0) {
            // The chart's core Service speaks plain HTTP inside the cluster (internalTLS off).
            const script = renderProxyCacheScript(c, `http://harbor-core.${ns}.svc/api/v2.0`);
            const cm = new k8s.core.v1.ConfigMap(`${name}-proxy-cache`, { metadata: { namespace: ns }, data: { "proxy-cache.sh": script } }, inNs);
            new k8s.batch.v1.Job(
                `${name}-proxy-cache`,
                {
                    metadata: { namespace: ns },
                    spec: {
                        backoffLimit: 3,
                        template: {
                            spec: {
                                restartPolicy: "OnFailure",
                                containers: [
                                    {
                                        name: "proxy-cache",
                                        image: PROXY_CACHE_JOB_IMAGE,
                                        command: ["/bin/sh", "/scripts/proxy-cache.sh"],
                                        env: [{ name: "HARBOR_ADMIN_PASSWORD", valueFrom: { secretKeyRef: { name: HARBOR_SECRETS.admin, key: HARBOR_SECRETS.adminKey } } }],
                                        volumeMounts: [{ name: "scripts", mountPath: "/scripts" }],
                                    },
                                ],
                                volumes: [{ name: "scripts", configMap: { name: cm.metadata.name } }],
                            },
                        },
                    },
                },
                { ...k, dependsOn: [this.release] },
            );
        }

        this.registerOutputs({ url: this.url, caPem: this.caPem, adminPassword: this.adminPassword });
    }
}
