import { RegistryConfig } from "./config";
import { upstreamHost } from "./endpoint";

/** goharbor/harbor-helm chart version → the Harbor release it installs (its appVersion). */
export const HARBOR_APP_VERSIONS: Record<string, string> = {
    "1.15.2": "v2.11.2",
    "1.16.0": "v2.12.0",
    "1.16.1": "v2.12.1",
    "1.16.2": "v2.12.2",
};

export const DEFAULT_HARBOR_CHART_REPOSITORY = "https://helm.goharbor.io";
/** Image of the Job that creates proxy-cache projects through Harbor's API. */
export const PROXY_CACHE_JOB_IMAGE = "docker.io/curlimages/curl:8.11.1";

/** Names of the Kubernetes Secrets the chart reads instead of plain values. */
export const HARBOR_SECRETS = {
    admin: "groundwork-harbor-admin",
    adminKey: "HARBOR_ADMIN_PASSWORD",
    secretKey: "groundwork-harbor-secret-key",
    tls: "groundwork-harbor-tls",
    ca: "groundwork-harbor-ca",
} as const;

/** The Harbor release of a chart version; throws with the known versions for an unknown one. */
export function harborAppVersion(chartVersion: string): string {
    const v = HARBOR_APP_VERSIONS[chartVersion];
    if (v === undefined) {
        throw new Error(`platform.registry.harbor.chartVersion: groundwork has no image pins for chart ${chartVersion}; known: ${Object.keys(HARBOR_APP_VERSIONS).join(", ")}`);
    }
    return v;
}

/** Every image the Harbor chart runs with groundwork's values (loadBalancer expose, trivy off when air-gapped). */
export function harborImages(config: RegistryConfig): string[] {
    const v = harborAppVersion(config.harbor.chartVersion);
    const names = ["harbor-core", "harbor-db", "harbor-jobservice", "harbor-portal", "harbor-registryctl", "nginx-photon", "redis-photon", "registry-photon"];
    if (!config.airGapped) names.push("trivy-adapter-photon");
    const images = names.map((n) => `docker.io/goharbor/${n}:${v}`);
    if (config.proxyCache.length > 0) images.push(PROXY_CACHE_JOB_IMAGE);
    return images.sort();
}

/**
 * The chart's values. Nothing secret is in them: the admin password and the encryption key come
 * from Secrets by name (existingSecretAdminPassword, existingSecretSecretKey), the certificate
 * from a TLS Secret (expose.tls.certSource: secret).
 */
export function harborValues(config: RegistryConfig, hostname: string, port: number) {
    const h = config.harbor;
    const size = (gib: number) => `${gib}Gi`;
    const pvc = (gib: number) => ({ storageClass: h.storageClass ?? "", size: size(gib), accessMode: "ReadWriteOnce" });
    return {
        expose: {
            type: "loadBalancer",
            tls: { enabled: true, certSource: "secret", secret: { secretName: HARBOR_SECRETS.tls } },
            loadBalancer: { name: "harbor", ports: { httpPort: 80, httpsPort: port } },
        },
        externalURL: port === 443 ? `https://${hostname}` : `https://${hostname}:${port}`,
        existingSecretAdminPassword: HARBOR_SECRETS.admin,
        existingSecretAdminPasswordKey: HARBOR_SECRETS.adminKey,
        existingSecretSecretKey: HARBOR_SECRETS.secretKey,
        caSecretName: HARBOR_SECRETS.ca,
        persistence: {
            enabled: true,
            resourcePolicy: "keep",
            persistentVolumeClaim: {
                registry: pvc(h.storageGiB),
                jobservice: { jobLog: pvc(1) },
                database: pvc(5),
                redis: pvc(1),
                trivy: pvc(5),
            },
        },
        // Trivy downloads its vulnerability database from GitHub: off when air-gapped.
        trivy: { enabled: !config.airGapped },
        metrics: { enabled: false },
    };
}

/** Harbor's registry endpoint type for an upstream (what its proxy-cache needs to speak). */
export function harborProviderType(upstream: string): string {
    switch (upstreamHost(upstream)) {
        case "docker.io":
            return "docker-hub";
        case "quay.io":
            return "quay";
        case "ghcr.io":
            return "github-ghcr";
        default:
            return "docker-registry";
    }
}

/**
 * The proxy-cache Job's script (POSIX sh, curl image): waits for Harbor, then per project makes
 * the registry endpoint and the proxy-cache project. Existing ones (HTTP 409) are left as they are,
 * so the Job can run again. The admin password comes from the environment (a secretKeyRef).
 */
export function renderProxyCacheScript(config: RegistryConfig, apiUrl: string): string {
    const lines = [
        "#!/bin/sh",
        "# groundwork: rendered; creates Harbor proxy-cache projects (the chart cannot)",
        "set -eu",
        `api=${JSON.stringify(apiUrl)}`,
        'auth="admin:${HARBOR_ADMIN_PASSWORD}"',
        "i=0",
        'until curl -fsS -o /dev/null "$api/ping"; do',
        "  i=$((i + 1)); [ $i -lt 120 ] || { echo 'harbor API did not answer in 10 minutes' >&2; exit 1; }",
        "  sleep 5",
        "done",
        "post() {",
        '  code=$(curl -sS -o /tmp/out -w "%{http_code}" -u "$auth" -H "Content-Type: application/json" -X POST "$api/$1" -d "$2")',
        '  case $code in 201|409) echo "POST $1: $code" ;; *) echo "POST $1: HTTP $code: $(cat /tmp/out)" >&2; exit 1 ;; esac',
        "}",
    ];
    for (const p of [...config.proxyCache].sort((a, b) => a.name.localeCompare(b.name))) {
        const reg = JSON.stringify({ name: p.name, type: harborProviderType(p.upstream), url: p.upstream, insecure: false });
        lines.push(
            `post registries '${reg}'`,
            // The first "id" of the exact-name query is the registry's (Harbor's JSON has no nested ids there).
            `id=$(curl -fsS -u "$auth" "$api/registries?q=name%3D${p.name}" | tr '{' ',' | tr ',' '\\n' | sed -n 's/^"id":\\([0-9][0-9]*\\)}*$/\\1/p' | head -n 1)`,
            `[ -n "$id" ] || { echo 'no registry id for ${p.name}' >&2; exit 1; }`,
            `post projects "{\\"project_name\\":\\"${p.name}\\",\\"registry_id\\":$id,\\"public\\":true,\\"metadata\\":{\\"public\\":\\"true\\"}}"`,
        );
    }
    lines.push('echo "proxy-cache projects ready"', "");
    return lines.join("\n");
}
