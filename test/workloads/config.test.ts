import * as assert from "assert";
import { appsConfig, appsProblems, profileFor, resolveApps, workloadImages } from "../../components/workloads/config";
import { staticSiteObjects } from "../../components/workloads/spec-web";

describe("workloads: the apps section", () => {
    it("picks the profile from the environment: local/dev → dev, qa → qa, prod/customer → prod", () => {
        assert.deepStrictEqual(["local", "dev", "qa", "prod", "customer"].map(profileFor), ["dev", "dev", "qa", "prod", "prod"]);
    });

    it("fills every workload from its profile; explicit fields win; role-only keys stay off other roles", () => {
        const raw = appsConfig.parse({
            workloads: {
                web: { role: "web-api", replicas: 5 },
                db: { role: "user-db", memoryMiB: 3000 },
                bus: { role: "queue", engine: "rabbitmq" },
                site: { role: "static-site", image: "registry.example/acme/site:2024.1" },
            },
        });
        assert.deepStrictEqual(resolveApps(raw, "customer", "block"), {
            profile: "prod",
            storageClass: "block",
            workloads: {
                bus: { role: "queue", image: "docker.io/library/rabbitmq:4.1.3", replicas: 3, cpuMillis: 500, memoryMiB: 1024, storageGiB: 20, engine: "rabbitmq" },
                db: { role: "user-db", image: "docker.io/library/postgres:17.6", replicas: 1, cpuMillis: 2000, memoryMiB: 3000, storageGiB: 100 },
                site: { role: "static-site", image: "registry.example/acme/site:2024.1", replicas: 3, cpuMillis: 200, memoryMiB: 128, webServerImage: "docker.io/nginxinc/nginx-unprivileged:1.28.0-alpine" },
                web: { role: "web-api", image: "docker.io/hashicorp/http-echo:1.0.0", replicas: 5, cpuMillis: 500, memoryMiB: 512 },
            },
        });
        // An explicit profile beats the environment's.
        assert.deepStrictEqual(resolveApps(appsConfig.parse({ profile: "dev", workloads: { q: { role: "queue" } } }), "prod", undefined).workloads.q, {
            role: "queue",
            image: "docker.io/library/nats:2.11.6-alpine",
            replicas: 1,
            cpuMillis: 100,
            memoryMiB: 256,
            storageGiB: 2,
            engine: "nats",
        });
        assert.deepStrictEqual(resolveApps(undefined, "qa", undefined), { profile: "qa", workloads: {} });
    });

    it("lists the images to mirror, the static site's web server included", () => {
        const a = resolveApps(appsConfig.parse({ workloads: { s: { role: "static-site", image: "docker.io/acme/site:1.0.0" }, t: { role: "static-site" } } }), "dev", undefined);
        assert.deepStrictEqual(workloadImages(a), ["docker.io/acme/site:1.0.0", "docker.io/nginxinc/nginx-unprivileged:1.28.0-alpine"]);
        // Another web server replaces the default one, in the list and in the pod.
        const own = resolveApps(appsConfig.parse({ workloads: { s: { role: "static-site", webServerImage: "docker.io/acme/httpd:2.4.65" } } }), "dev", undefined);
        assert.deepStrictEqual(workloadImages(own), ["docker.io/acme/httpd:2.4.65", "docker.io/nginxinc/nginx-unprivileged:1.28.0-alpine"]);
        const pod = staticSiteObjects("s", own.workloads.s, { namespace: "apps", ha: false, clusterDomain: "cluster.local" }).objects[0].spec as { template: { spec: { containers: { image: string }[]; initContainers: { image: string }[] } } };
        assert.deepStrictEqual([pod.template.spec.initContainers[0].image, pod.template.spec.containers[0].image], ["docker.io/nginxinc/nginx-unprivileged:1.28.0-alpine", "docker.io/acme/httpd:2.4.65"]);
    });

    it("reports role rules with their key paths", () => {
        const raw = appsConfig.parse({
            workloads: {
                a: { role: "web-api", engine: "nats", storageGiB: 3, ingressHost: "a.example" },
                b: { role: "analytics-db", replicas: 2, ingressHost: "b.example", webServerImage: "docker.io/acme/httpd:2.4.65" },
            },
        });
        assert.deepStrictEqual(appsProblems(raw, "platform.apps"), [
            { path: "platform.apps.workloads.a.engine", message: "applies to role queue only, not web-api" },
            { path: "platform.apps.workloads.a.storageGiB", message: "applies to roles user-db, queue, analytics-db only, not web-api" },
            { path: "platform.apps.workloads.a.ingressHost", message: "needs platform.apps.ingressClass: an Ingress is made only for a configured ingress class" },
            { path: "platform.apps.workloads.b.webServerImage", message: "applies to role static-site only, not analytics-db" },
            { path: "platform.apps.workloads.b.ingressHost", message: "applies to roles static-site, web-api only, not analytics-db" },
            { path: "platform.apps.workloads.b.replicas", message: "must be 1 for role analytics-db: one ClickHouse server (replication needs ClickHouse Keeper); got 2" },
        ]);
    });
});
