import * as assert from "assert";
import { stringify } from "yaml";
import { CLUSTER_PROVIDER, engineInputs } from "../../cli/commands/render";
import { KUBECONFIG_PLACEHOLDER, VIP_INTERFACE_PLACEHOLDER } from "../../components/cluster/kube-vip";
import { PATHS } from "../../components/cluster/parts";
import { LoopbackApiServer } from "../support/apiserver";
import { exampleSpec } from "../support/kubernetes";
import { recorder } from "../support/mocks";
import { runProgram } from "../support/program";

/** Kinds the program creates outside Helm charts, with the CRD-backed ones (MetalLB's, installed by its chart) left out. */
const BUILTIN = /^kubernetes:(core\/v1:(Namespace|Secret|ConfigMap)|batch\/v1:(CronJob|Job))$/;

/** The Kubernetes objects a stack's program registers (under the mocks), as they would be sent; unnamed ones get their Pulumi name. */
async function programObjects(stack: string): Promise<Record<string, any>[]> {
    await runProgram(stack);
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
        it(`${stack}: every Namespace, Secret, ConfigMap, CronJob and Job passes the API server's validation and admission`, async () => {
            const objects = await programObjects(stack);
            assert.ok(objects.some((o) => o.kind === "CronJob"), "the etcd snapshot CronJob is among them");
            // Namespaces for real (a dry-run one would not exist for the objects inside it), the rest dry-run.
            const namespaces = objects.filter((o) => o.kind === "Namespace");
            if (namespaces.length > 0) server.kubectl(["apply", "-f", "-"], list(namespaces));
            const rest = objects.filter((o) => o.kind !== "Namespace");
            const out = server.kubectl(["apply", "--dry-run=server", "-o", "name", "-f", "-"], list(rest));
            const applied = out.trim().split("\n").sort();
            const group = (o: Record<string, any>) => (o.apiVersion === "batch/v1" ? ".batch" : "");
            assert.deepStrictEqual(applied, rest.map((o) => `${o.kind.toLowerCase()}${group(o)}/${o.metadata.name}`).sort());
        });
    }

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
