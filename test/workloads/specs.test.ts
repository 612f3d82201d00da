import * as assert from "assert";
import { RegistryEndpoint } from "../../components/registry/endpoint";
import { appsConfig, EffectiveWorkload, resolveApps } from "../../components/workloads/config";
import { K8sObject, pullImage, WorkloadContext } from "../../components/workloads/objects";
import { rabbitmqConf } from "../../components/workloads/spec-data";
import { appsObjects, workloadContext, workloadObjects } from "../../components/workloads/specs";

/** Harbor with a Docker Hub proxy-cache project, written out by hand (the prod stack's shape). */
const HARBOR: RegistryEndpoint<string> = {
    mode: "harbor",
    host: "harbor.prod.example",
    port: 443,
    authority: "harbor.prod.example",
    caPem: "",
    mirrors: [{ host: "docker.io", endpoints: ["https://harbor.prod.example/v2/dockerhub"] }],
};
/** A standalone registry serving upstreams under their own paths (customer-dc's shape). */
const STANDALONE: RegistryEndpoint<string> = {
    mode: "standalone",
    host: "registry.cdc.example",
    port: 5000,
    authority: "registry.cdc.example:5000",
    caPem: "",
    mirrors: ["docker.io", "quay.io"].map((host) => ({ host, endpoints: ["https://registry.cdc.example:5000"] })),
};

const base: WorkloadContext = { namespace: "apps", ha: false, clusterDomain: "cluster.local" };
const all = { site: { role: "static-site" }, api: { role: "web-api" }, users: { role: "user-db" }, events: { role: "queue" }, analytics: { role: "analytics-db" } };
const apps = (profile: string, extra: Record<string, unknown> = {}) => resolveApps(appsConfig.parse({ profile, workloads: all, ...extra }), "dev", "fast");

/** Every pod spec in a list of objects (Deployments, StatefulSets, CronJobs). */
function podSpecs(objects: K8sObject[]): Record<string, any>[] {
    return objects.flatMap((o: any) => {
        if (o.kind === "Deployment" || o.kind === "StatefulSet") return [o.spec.template.spec];
        if (o.kind === "CronJob") return [o.spec.jobTemplate.spec.template.spec];
        return [];
    });
}
const containers = (objects: K8sObject[]) => podSpecs(objects).flatMap((p) => [...(p.initContainers ?? []), ...p.containers]);
const find = (objects: K8sObject[], kind: string, name: string): any => objects.find((o) => o.kind === kind && o.metadata.name === name);

describe("workloads: object specs (pure)", () => {
    it("pulls every image through Harbor's proxy-cache project when air-gapped, exactly", () => {
        const a = apps("prod");
        const objects = appsObjects(a, workloadContext(a, { clusterDomain: "cluster.local", registry: HARBOR }));
        const images = [...new Set(containers(objects).map((c) => c.image))].sort();
        assert.deepStrictEqual(images, [
            "harbor.prod.example/dockerhub/clickhouse/clickhouse-server:25.3.10.19",
            "harbor.prod.example/dockerhub/hashicorp/http-echo:1.0.0",
            "harbor.prod.example/dockerhub/library/nats:2.11.6-alpine",
            "harbor.prod.example/dockerhub/library/postgres:17.6",
            "harbor.prod.example/dockerhub/nginxinc/nginx-unprivileged:1.28.0-alpine",
        ]);
    });

    it("pulls through a standalone registry under the upstream path, and upstream when not air-gapped", () => {
        const w: EffectiveWorkload = { role: "user-db", image: "docker.io/library/postgres:17.6", replicas: 1, cpuMillis: 250, memoryMiB: 512, storageGiB: 5 };
        const sts = find(workloadObjects("users", w, { ...base, registry: STANDALONE }).objects, "StatefulSet", "users");
        assert.strictEqual(sts.spec.template.spec.containers[0].image, "registry.cdc.example:5000/library/postgres:17.6");
        const cron = find(workloadObjects("users", w, { ...base, registry: STANDALONE }).objects, "CronJob", "users-backup");
        assert.strictEqual(cron.spec.jobTemplate.spec.template.spec.containers[0].image, "registry.cdc.example:5000/library/postgres:17.6");
        assert.strictEqual(find(workloadObjects("users", w, base).objects, "StatefulSet", "users").spec.template.spec.containers[0].image, "docker.io/library/postgres:17.6");
        assert.strictEqual(pullImage("nginx:1.28.0", { ...base, registry: STANDALONE }), "registry.cdc.example:5000/library/nginx:1.28.0");
        assert.throws(() => pullImage("ghcr.io/acme/api:1.0.0", { ...base, registry: HARBOR }), /image ghcr\.io\/acme\/api:1\.0\.0: the air-gapped registry harbor\.prod\.example does not serve its registry/);
    });

    it("runs every container non-root, without privilege escalation or capabilities; read-only root except RabbitMQ and ClickHouse", () => {
        const a = apps("dev", { workloads: { ...all, rabbit: { role: "queue", engine: "rabbitmq" } } });
        const objects = appsObjects(a, workloadContext(a, { clusterDomain: "cluster.local" }));
        const byName = Object.fromEntries(containers(objects).map((c) => [c.name, c.securityContext]));
        assert.deepStrictEqual(Object.keys(byName).sort(), ["api", "clickhouse", "content", "nats", "pg-dump", "postgres", "rabbitmq", "web"]);
        for (const [name, sc] of Object.entries(byName)) {
            const readOnly = !["rabbitmq", "clickhouse"].includes(name);
            assert.deepStrictEqual(sc, { runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: readOnly, capabilities: { drop: ["ALL"] } }, name);
        }
        const uids = podSpecs(objects).map((p) => p.securityContext.runAsUser);
        // web 101 (nginx-unprivileged), api 65532, postgres and pg_dump 999, nats 1000, rabbitmq 999, clickhouse 101.
        assert.deepStrictEqual([...uids].sort((x, y) => x - y), [101, 101, 999, 999, 999, 1000, 65532]);
        for (const p of podSpecs(objects)) assert.deepStrictEqual(p.securityContext.seccompProfile, { type: "RuntimeDefault" });
    });

    it("gives read-only containers emptyDir scratch space where the image writes", () => {
        const a = apps("dev");
        const objects = appsObjects(a, workloadContext(a, { clusterDomain: "cluster.local" }));
        const site = find(objects, "Deployment", "site").spec.template.spec;
        assert.deepStrictEqual(site.volumes, [{ name: "site", emptyDir: {} }, { name: "tmp", emptyDir: {} }]);
        assert.deepStrictEqual(site.containers[0].volumeMounts, [{ name: "site", mountPath: "/usr/share/nginx/html", readOnly: true }, { name: "tmp", mountPath: "/tmp" }]);
        assert.deepStrictEqual(site.initContainers[0].command, ["/bin/sh", "-c", "cp -R /usr/share/nginx/html/. /site/"]);
        const pg = find(objects, "StatefulSet", "users").spec.template.spec;
        assert.deepStrictEqual(pg.containers[0].volumeMounts.map((m: any) => m.mountPath), ["/var/lib/postgresql/data", "/var/run/postgresql", "/tmp"]);
        assert.deepStrictEqual(pg.volumes, [{ name: "run", emptyDir: {} }, { name: "tmp", emptyDir: {} }]);
    });

    it("requests the configured resources, limits CPU at twice the request and memory at the request", () => {
        const a = apps("qa", { workloads: { users: { role: "user-db", cpuMillis: 750, memoryMiB: 1536 } } });
        const pg = find(appsObjects(a, workloadContext(a, { clusterDomain: "cluster.local" })), "StatefulSet", "users").spec.template.spec.containers[0];
        assert.deepStrictEqual(pg.resources, { requests: { cpu: "750m", memory: "1536Mi" }, limits: { cpu: "1500m", memory: "1536Mi" } });
        // qa's profile for a queue: 250m, 512 MiB.
        const q = find(appsObjects(apps("qa"), workloadContext(apps("qa"), { clusterDomain: "cluster.local" })), "StatefulSet", "events").spec.template.spec.containers[0];
        assert.deepStrictEqual(q.resources, { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "500m", memory: "512Mi" } });
    });

    for (const profile of ["dev", "qa", "prod"]) {
        it(`${profile}: topology spread across nodes and disruption budgets ${profile === "prod" ? "on every replicated workload" : "absent"}`, () => {
            const a = apps(profile);
            const objects = appsObjects(a, workloadContext(a, { clusterDomain: "cluster.local" }));
            const spread = podSpecs(objects).filter((p) => p.topologySpreadConstraints !== undefined);
            const pdbs = objects.filter((o) => o.kind === "PodDisruptionBudget").map((o) => o.metadata.name);
            if (profile !== "prod") {
                assert.deepStrictEqual(spread, []);
                assert.deepStrictEqual(pdbs, []);
                return;
            }
            // Every Deployment and StatefulSet (not the backup job): site, api, users, events, analytics.
            assert.strictEqual(spread.length, 5);
            assert.deepStrictEqual(find(objects, "Deployment", "api").spec.template.spec.topologySpreadConstraints, [
                { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "DoNotSchedule", nodeTaintsPolicy: "Honor", labelSelector: { matchLabels: { "app.kubernetes.io/name": "api" } } },
            ]);
            // Single-instance databases get no budget (one pod: nothing to keep up during a drain).
            assert.deepStrictEqual(pdbs, ["api", "events", "site"]);
            assert.deepStrictEqual(find(objects, "PodDisruptionBudget", "events").spec, { maxUnavailable: 1, selector: { matchLabels: { "app.kubernetes.io/name": "events" } } });
        });
    }

    it("makes an Ingress only when the workload has a host and the platform an ingress class", () => {
        const withClass = apps("prod", { ingressClass: "nginx", workloads: { api: { role: "web-api", ingressHost: "api.example.com", replicas: 4 } } });
        const objects = appsObjects(withClass, workloadContext(withClass, { clusterDomain: "cluster.local" }));
        assert.deepStrictEqual(find(objects, "Ingress", "api").spec, {
            ingressClassName: "nginx",
            rules: [{ host: "api.example.com", http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "api", port: { name: "http" } } } }] } }],
        });
        assert.deepStrictEqual(find(objects, "HorizontalPodAutoscaler", "api").spec, {
            scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "api" },
            minReplicas: 4,
            maxReplicas: 12,
            metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } }],
        });
        assert.strictEqual(find(objects, "Deployment", "api").spec.replicas, undefined, "the autoscaler owns the replica count");
        const w = withClass.workloads.api;
        assert.strictEqual(workloadObjects("api", w, { ...base, ingressClass: undefined }).objects.some((o) => o.kind === "Ingress"), false);
    });

    it("user-db: generated password in the credentials Secret, a nightly pg_dump CronJob on its own claim", () => {
        const a = apps("dev");
        const { objects, credentials } = workloadObjects("users", a.workloads.users, workloadContext(a, { clusterDomain: "cluster.local" }));
        assert.deepStrictEqual(credentials, { secretName: "users-credentials", fixed: { POSTGRES_DB: "app", POSTGRES_USER: "app" }, generated: { POSTGRES_PASSWORD: 32 } });
        assert.deepStrictEqual(find(objects, "PersistentVolumeClaim", "users-backup").spec, { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "5Gi" } }, storageClassName: "fast" });
        const sts = find(objects, "StatefulSet", "users");
        assert.deepStrictEqual(sts.spec.volumeClaimTemplates[0].spec, { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "5Gi" } }, storageClassName: "fast" });
        assert.deepStrictEqual(sts.spec.template.spec.containers[0].envFrom, [{ secretRef: { name: "users-credentials" } }]);
        const cron = find(objects, "CronJob", "users-backup");
        assert.strictEqual(cron.spec.schedule, "15 2 * * *");
        const job = cron.spec.jobTemplate.spec.template.spec;
        assert.deepStrictEqual(job.volumes[0], { name: "backup", persistentVolumeClaim: { claimName: "users-backup" } });
        assert.deepStrictEqual(job.containers[0].env, [{ name: "PGPASSWORD", valueFrom: { secretKeyRef: { name: "users-credentials", key: "POSTGRES_PASSWORD" } } }]);
        assert.match(job.containers[0].command[2], /^set -eu\nf="\/backup\/users-\$\(date -u \+%Y%m%dT%H%M%SZ\)\.dump"\npg_dump -h users -U "\$POSTGRES_USER" -d "\$POSTGRES_DB" -Fc -f "\$f\.partial"\nmv "\$f\.partial" "\$f"\nfind \/backup -name '\*\.dump' -mtime \+7 -exec rm -f \{\} \+$/);
    });

    it("queue: NATS routes to every peer by its stable name; RabbitMQ lists the same peers", () => {
        const a = apps("prod");
        const ctx = workloadContext(a, { clusterDomain: "corp.local" });
        const nats = find(workloadObjects("events", a.workloads.events, ctx).objects, "StatefulSet", "events").spec.template.spec.containers[0];
        assert.ok(nats.args.includes("--routes=nats://events-0.events-headless.apps.svc.corp.local:6222,nats://events-1.events-headless.apps.svc.corp.local:6222,nats://events-2.events-headless.apps.svc.corp.local:6222"));
        assert.ok(nats.args.includes("--auth=$(NATS_TOKEN)"));
        const single = apps("dev");
        const alone = find(workloadObjects("events", single.workloads.events, workloadContext(single, { clusterDomain: "cluster.local" })).objects, "StatefulSet", "events").spec.template.spec.containers[0];
        assert.ok(!alone.args.some((x: string) => x.startsWith("--routes") || x.startsWith("--cluster")), "one server: no cluster");
        const rabbit: EffectiveWorkload = { ...a.workloads.events, engine: "rabbitmq", image: "docker.io/library/rabbitmq:4.1.3" };
        assert.strictEqual(
            rabbitmqConf("events", rabbit, ctx),
            [
                "cluster_formation.peer_discovery_backend = classic_config",
                "cluster_formation.classic_config.nodes.1 = rabbit@events-0.events-headless.apps.svc.corp.local",
                "cluster_formation.classic_config.nodes.2 = rabbit@events-1.events-headless.apps.svc.corp.local",
                "cluster_formation.classic_config.nodes.3 = rabbit@events-2.events-headless.apps.svc.corp.local",
                "",
            ].join("\n"),
        );
        const headless = find(workloadObjects("events", rabbit, ctx).objects, "Service", "events-headless").spec;
        assert.strictEqual(headless.clusterIP, "None");
        assert.strictEqual(headless.publishNotReadyAddresses, true);
    });

    it("dumps every object as plain JSON data: namespace first, Secrets with placeholders only", () => {
        const a = apps("dev");
        const objects = appsObjects(a, workloadContext(a, { clusterDomain: "cluster.local" }));
        assert.deepStrictEqual(JSON.parse(JSON.stringify(objects)), objects, "no functions, Outputs or undefined values");
        assert.deepStrictEqual(
            objects.map((o) => `${o.kind}/${o.metadata.name}`),
            [
                "Namespace/apps",
                "Secret/analytics-credentials", "Service/analytics-headless", "Service/analytics", "StatefulSet/analytics",
                "Deployment/api", "Service/api", "HorizontalPodAutoscaler/api",
                "Secret/events-credentials", "Service/events-headless", "Service/events", "StatefulSet/events",
                "Deployment/site", "Service/site",
                "Secret/users-credentials", "Service/users-headless", "Service/users", "StatefulSet/users", "PersistentVolumeClaim/users-backup", "CronJob/users-backup",
            ],
        );
        assert.deepStrictEqual((find(objects, "Secret", "users-credentials") as any).stringData, { POSTGRES_DB: "app", POSTGRES_USER: "app", POSTGRES_PASSWORD: "generated-" + "x".repeat(22) });
        assert.ok(objects.slice(1).every((o) => o.metadata.namespace === "apps"));
        assert.deepStrictEqual(appsObjects(resolveApps(undefined, "prod", undefined), base), []);
    });
});
