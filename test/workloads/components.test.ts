import * as assert from "assert";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { appsConfig, resolveApps } from "../../components/workloads/config";
import { workloadContext } from "../../components/workloads/specs";
import { Workloads } from "../../components/workloads/workloads";
import { countsByType } from "../support/program";
import { recorder, settle, valueOf } from "../support/mocks";

const all = { site: { role: "static-site" }, api: { role: "web-api" }, users: { role: "user-db" }, events: { role: "queue" }, analytics: { role: "analytics-db" } };

async function build(profile: string, workloads: Record<string, unknown> = all, extra: Record<string, unknown> = {}): Promise<Workloads> {
    const apps = resolveApps(appsConfig.parse({ profile, workloads, ...extra }), "dev", "fast");
    const provider = new k8s.Provider("cluster", { kubeconfig: "apiVersion: v1\nkind: Config\n" });
    const w = new Workloads("t-apps", { apps, context: workloadContext(apps, { clusterDomain: "cluster.local" }), provider });
    await settle();
    await new Promise((r) => setTimeout(r, 100));
    return w;
}

/** Children of a component, as URNs (mock URNs carry the immediate parent's type). */
async function childUrns(r: pulumi.Resource): Promise<string[]> {
    const children = (r as unknown as { __childResources?: Set<pulumi.Resource> }).__childResources ?? new Set();
    return (await Promise.all([...children].map((c) => valueOf(c.urn)))).sort();
}

describe("workloads: components under mocks", () => {
    it("dev: one component per role, each object once, on the cluster's provider", async () => {
        await build("dev");
        const counts = countsByType();
        delete counts["pulumi:providers:kubernetes"];
        assert.deepStrictEqual(counts, {
            "groundwork:workloads:AnalyticsDatabase": 1,
            "groundwork:workloads:Queue": 1,
            "groundwork:workloads:StaticSite": 1,
            "groundwork:workloads:UserDatabase": 1,
            "groundwork:workloads:WebApi": 1,
            "groundwork:workloads:Workloads": 1,
            "kubernetes:apps/v1:Deployment": 2,
            "kubernetes:apps/v1:StatefulSet": 3,
            "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": 1,
            "kubernetes:batch/v1:CronJob": 1,
            "kubernetes:core/v1:Namespace": 1,
            "kubernetes:core/v1:PersistentVolumeClaim": 1,
            "kubernetes:core/v1:Secret": 3,
            "kubernetes:core/v1:Service": 8,
            "random:index/randomPassword:RandomPassword": 3,
        });
        for (const r of recorder.registrations.filter((x) => x.type.startsWith("kubernetes:"))) {
            assert.match(r.provider ?? "", /^urn:pulumi:test::groundwork::pulumi:providers:kubernetes::cluster::/, `${r.name} runs on the cluster's provider`);
        }
    });

    it("names every child `${name}-<role>` and parents it to its workload component", async () => {
        const w = await build("prod", all, { ingressClass: "nginx", workloads: { ...all, api: { role: "web-api", ingressHost: "api.example" } } });
        assert.deepStrictEqual(await childUrns(w), [
            "urn:pulumi:test::groundwork::groundwork:workloads:Workloads$groundwork:workloads:AnalyticsDatabase::t-apps-analytics",
            "urn:pulumi:test::groundwork::groundwork:workloads:Workloads$groundwork:workloads:Queue::t-apps-events",
            "urn:pulumi:test::groundwork::groundwork:workloads:Workloads$groundwork:workloads:StaticSite::t-apps-site",
            "urn:pulumi:test::groundwork::groundwork:workloads:Workloads$groundwork:workloads:UserDatabase::t-apps-users",
            "urn:pulumi:test::groundwork::groundwork:workloads:Workloads$groundwork:workloads:WebApi::t-apps-api",
            "urn:pulumi:test::groundwork::groundwork:workloads:Workloads$kubernetes:core/v1:Namespace::t-apps-namespace",
        ]);
        assert.deepStrictEqual(await childUrns(w.workloads.users), [
            "urn:pulumi:test::groundwork::groundwork:workloads:UserDatabase$kubernetes:apps/v1:StatefulSet::t-apps-users-statefulset",
            "urn:pulumi:test::groundwork::groundwork:workloads:UserDatabase$kubernetes:batch/v1:CronJob::t-apps-users-backup-cronjob",
            "urn:pulumi:test::groundwork::groundwork:workloads:UserDatabase$kubernetes:core/v1:PersistentVolumeClaim::t-apps-users-backup-pvc",
            "urn:pulumi:test::groundwork::groundwork:workloads:UserDatabase$kubernetes:core/v1:Secret::t-apps-users-credentials",
            "urn:pulumi:test::groundwork::groundwork:workloads:UserDatabase$kubernetes:core/v1:Service::t-apps-users-headless-service",
            "urn:pulumi:test::groundwork::groundwork:workloads:UserDatabase$kubernetes:core/v1:Service::t-apps-users-service",
            "urn:pulumi:test::groundwork::groundwork:workloads:UserDatabase$random:index/randomPassword:RandomPassword::t-apps-users-postgres-password",
        ]);
        assert.deepStrictEqual(await childUrns(w.workloads.api), [
            "urn:pulumi:test::groundwork::groundwork:workloads:WebApi$kubernetes:apps/v1:Deployment::t-apps-api-deployment",
            "urn:pulumi:test::groundwork::groundwork:workloads:WebApi$kubernetes:autoscaling/v2:HorizontalPodAutoscaler::t-apps-api-hpa",
            "urn:pulumi:test::groundwork::groundwork:workloads:WebApi$kubernetes:core/v1:Service::t-apps-api-service",
            "urn:pulumi:test::groundwork::groundwork:workloads:WebApi$kubernetes:networking.k8s.io/v1:Ingress::t-apps-api-ingress",
            "urn:pulumi:test::groundwork::groundwork:workloads:WebApi$kubernetes:policy/v1:PodDisruptionBudget::t-apps-api-pdb",
        ]);
    });

    it("keeps generated credentials secret: the Secret's stringData is a secret input and output", async () => {
        const w = await build("dev", { bus: { role: "queue", engine: "rabbitmq" }, users: { role: "user-db" } });
        const secrets = recorder.ofType("kubernetes:core/v1:Secret");
        assert.deepStrictEqual(secrets.map((s) => s.name).sort(), ["t-apps-bus-credentials", "t-apps-users-credentials"]);
        for (const s of secrets) assert.deepStrictEqual(s.secretInputs, ["stringData"], s.name);
        const bus = secrets.find((s) => s.name === "t-apps-bus-credentials")!;
        // The mock's RandomPassword result is "x" × length: 32 for the password, 48 for the cookie.
        assert.deepStrictEqual(bus.inputs.stringData, { RABBITMQ_DEFAULT_USER: "app", RABBITMQ_DEFAULT_PASS: "x".repeat(32), RABBITMQ_ERLANG_COOKIE: "x".repeat(48) });
        assert.deepStrictEqual(bus.inputs.metadata, { name: "bus-credentials", namespace: "apps", labels: { "app.kubernetes.io/name": "bus", "app.kubernetes.io/component": "queue", "app.kubernetes.io/managed-by": "groundwork" } });
        assert.strictEqual(await pulumi.isSecret(w.workloads.users.credentials!.stringData), true);
        assert.deepStrictEqual(recorder.ofType("random:index/randomPassword:RandomPassword").map((r) => [r.name, r.inputs.length, r.inputs.special]).sort(), [
            ["t-apps-bus-rabbitmq-default-pass", 32, false],
            ["t-apps-bus-rabbitmq-erlang-cookie", 48, false],
            ["t-apps-users-postgres-password", 32, false],
        ]);
        // The ConfigMap with RabbitMQ's peers is plain (no credential in it).
        const [cm] = recorder.ofType("kubernetes:core/v1:ConfigMap");
        assert.deepStrictEqual(cm.secretInputs, []);
        assert.match(cm.inputs.data["10-groundwork.conf"], /^cluster_formation\.peer_discovery_backend = classic_config\n/);
    });
});
