import * as assert from "assert";
import { stringify } from "yaml";
import { CLUSTER_PROVIDER, engineInputs, stackFlannelManifest } from "../../cli/commands/render";
import { KUBECONFIG_PLACEHOLDER, VIP_INTERFACE_PLACEHOLDER } from "../../components/cluster/kube-vip";
import { PATHS } from "../../components/cluster/parts";
import { LoopbackApiServer } from "../support/apiserver";
import { exampleSpec, variantSpec } from "../support/kubernetes";
import { recorder } from "../support/mocks";
import { runProgram } from "../support/program";

/**
 * Kinds the program creates outside Helm charts — the add-ons' Secrets, ConfigMaps and Jobs and the
 * app matrix's workloads — with the CRD-backed ones (MetalLB's, installed by its chart) left out.
 */
const BUILTIN =
    /^kubernetes:(core\/v1:(Namespace|ServiceAccount|Secret|ConfigMap|Service|PersistentVolumeClaim)|rbac\.authorization\.k8s\.io\/v1:(ClusterRole|ClusterRoleBinding)|batch\/v1:(CronJob|Job)|apps\/v1:(DaemonSet|Deployment|StatefulSet)|autoscaling\/v2:HorizontalPodAutoscaler|policy\/v1:PodDisruptionBudget|networking\.k8s\.io\/v1:Ingress)$/;

/** The Kubernetes objects a stack's program registers (under the mocks), as they would be sent; unnamed ones get their Pulumi name. */
async function programObjects(stack: string, mutate?: (config: Record<string, string>) => void): Promise<Record<string, any>[]> {
    await runProgram(stack, mutate);
    return recorder.registrations
        .filter((r) => BUILTIN.test(r.type))
        .map((r) => {
            const o = JSON.parse(JSON.stringify(r.inputs));
            o.metadata = { ...(o.metadata ?? {}), name: o.metadata?.name ?? r.name };
            return o;
        });
}

const list = (items: object[]) => stringify({ apiVersion: "v1", kind: "List", items });

describe("a real kube-apiserver v1.33.13 + etcd 3.5.21 on loopback: server-side dry-run of what the program creates outside Helm", function () {
    this.timeout(300_000);
    const server = new LoopbackApiServer();
    before(async () => server.start());
    after(async () => server.stop());

    for (const stack of ["dev", "qa", "prod", "customer-dc"]) {
        it(`${stack}: every Namespace, Secret, ConfigMap, CronJob, Job and app-matrix workload object passes the API server's validation and admission`, async () => {
            const objects = await programObjects(stack);
            assert.ok(objects.some((o) => o.kind === "CronJob"), "the etcd snapshot CronJob is among them");
            // Namespaces for real (a dry-run one would not exist for the objects inside it), the rest dry-run.
            const namespaces = objects.filter((o) => o.kind === "Namespace");
            if (namespaces.length > 0) server.kubectl(["apply", "-f", "-"], list(namespaces));
            const rest = objects.filter((o) => o.kind !== "Namespace");
            const out = server.kubectl(["apply", "--dry-run=server", "-o", "name", "-f", "-"], list(rest));
            const applied = out.trim().split("\n").sort();
            // `kubectl -o name` spells a kind with its API group: deployment.apps, cronjob.batch, ingress.networking.k8s.io.
            const group = (o: Record<string, any>) => (String(o.apiVersion).includes("/") ? `.${String(o.apiVersion).split("/")[0]}` : "");
            // The app matrix's five roles are among them (a StatefulSet per stateful role, a Deployment per web role).
            assert.ok(objects.filter((o) => o.kind === "StatefulSet").length >= 3 && objects.some((o) => o.kind === "Deployment"), "the app matrix's workloads are among them");
            assert.deepStrictEqual(applied, rest.map((o) => `${o.kind.toLowerCase()}${group(o)}/${o.metadata.name}`).sort());
        });
    }

    it("flannel (dev with cluster.cni.kind flannel and every option): the program's six flannel objects and render's flannel.yaml pass the API server's validation and admission", async () => {
        const cni = { kind: "flannel", flannel: { iface: "ens3", vni: 4096, port: 4789 } };
        const objects = (
            await programObjects("dev", (config) => {
                const platform = JSON.parse(config["groundwork:platform"]);
                platform.cluster.cni = cni;
                config["groundwork:platform"] = JSON.stringify(platform);
            })
        ).filter((o) => o.metadata.name === "kube-flannel" || o.metadata.namespace === "kube-flannel" || o.metadata.name === "flannel");
        assert.deepStrictEqual(objects.map((o) => o.kind).sort(), ["ClusterRole", "ClusterRoleBinding", "ConfigMap", "DaemonSet", "Namespace", "ServiceAccount"]);
        server.kubectl(["apply", "-f", "-"], list(objects.filter((o) => o.kind === "Namespace")));
        const rest = objects.filter((o) => o.kind !== "Namespace");
        const applied = server.kubectl(["apply", "--dry-run=server", "-o", "name", "-f", "-"], list(rest)).trim().split("\n").sort();
        assert.deepStrictEqual(applied, [
            "clusterrole.rbac.authorization.k8s.io/flannel",
            "clusterrolebinding.rbac.authorization.k8s.io/flannel",
            "configmap/kube-flannel-cfg",
            "daemonset.apps/kube-flannel-ds",
            "serviceaccount/flannel",
        ]);
        // The very text render writes, as a user would `kubectl apply -f flannel.yaml` it.
        const yaml = stackFlannelManifest(variantSpec("dev", (p) => (p.cluster.cni = cni)))!;
        const fromFile = server.kubectl(["apply", "--dry-run=server", "-o", "name", "-f", "-"], yaml).trim().split("\n").sort();
        assert.deepStrictEqual(fromFile, ["namespace/kube-flannel", ...applied].sort());
        // Not a rubber stamp: a DaemonSet whose selector misses its pods' labels is refused.
        const ds = rest.find((o) => o.kind === "DaemonSet")!;
        ds.spec.selector.matchLabels = { app: "not-flannel" };
        assert.throws(() => server.kubectl(["apply", "--dry-run=server", "-f", "-"], list([ds])), /selector.*does not match template.*labels/);
    });

    it("the kube-vip static pod of every control plane is a valid Pod", () => {
        let pods = 0;
        for (const stack of ["dev", "qa", "prod", "customer-dc"]) {
            const spec = exampleSpec(stack);
            const { engine, engineOptions } = engineInputs(spec);
            for (const machine of spec.machines.filter((m) => m.role === "control-plane")) {
                const file = CLUSTER_PROVIDER.parts({ spec, machine, engine, engineOptions })
                    .flatMap((p) => p.files)
                    .find((f) => f.path === PATHS.kubeVipTemplate);
                if (!file) continue;
                // What the bootstrap's sed fills in on the machine.
                const pod = file.content.split(VIP_INTERFACE_PLACEHOLDER).join("ens3").split(KUBECONFIG_PLACEHOLDER).join("/etc/kubernetes/admin.conf");
                assert.strictEqual(server.kubectl(["create", "--dry-run=server", "-o", "name", "-f", "-"], pod).trim(), "pod/kube-vip");
                pods++;
            }
        }
        assert.strictEqual(pods, 10, "1 (dev) + 3 (qa) + 3 (prod) + 3 (customer-dc) control planes");
    });

    it("rejects what is invalid: the dry-run is not a rubber stamp", async () => {
        const cron = (await programObjects("dev")).find((o) => o.kind === "CronJob")!;
        cron.spec.schedule = "every night";
        assert.throws(() => server.kubectl(["apply", "--dry-run=server", "-f", "-"], list([cron])), /schedule/);
    });
});
