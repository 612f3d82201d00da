/**
 * Day-2 changes planned under the mocks (issue 13, item 1): two runs of the program, the second
 * with one config change, compared as `pulumi preview` compares them (test/support/plan.ts, with
 * the providers' replace rules). User-data is the first boot only: no change replaces a machine;
 * the machines whose bootstrap changed converge in place, and the preview names the parts.
 */
import * as assert from "assert";
import { captureGraph, graph, GraphNode, resetGraph } from "../cluster/graph";
import { plan, snapshot, Snapshot, Step } from "../support/plan";
import { recorder } from "../support/mocks";
import { runProgram } from "../support/program";

type Platform = Record<string, any>;

async function twoRuns(stack: string, change: (p: Platform) => void): Promise<{ before: Snapshot; after: Snapshot; steps: Step[]; beforeGraph: GraphNode[] }> {
    resetGraph();
    await runProgram(stack);
    const before = snapshot();
    const beforeGraph = graph().map((n) => ({ ...n, deps: [...n.deps] }));
    resetGraph();
    await runProgram(stack, (c) => {
        const p = JSON.parse(c["groundwork:platform"]);
        change(p);
        c["groundwork:platform"] = JSON.stringify(p);
    });
    const after = snapshot();
    return { before, after, steps: plan(before, after), beforeGraph };
}

/** Whether `n` waits for `urn`, directly or through other resources' dependencies (in `nodes`, by default this run's graph). */
function waitsFor(n: GraphNode, urn: string, nodes: GraphNode[] = graph()): boolean {
    const byUrn = new Map(nodes.map((x) => [x.urn, x]));
    const seen = new Set<string>();
    const todo = [...n.deps];
    while (todo.length > 0) {
        const u = todo.pop()!;
        if (u === urn) return true;
        if (seen.has(u)) continue;
        seen.add(u);
        todo.push(...(byUrn.get(u)?.deps ?? []));
    }
    return false;
}

const line = (s: Step) => `${s.op} ${s.name} ${s.detail.join(",")}`.trim();

describe("day 2 under mocks: what a change converges, and nothing replaced", function () {
    this.timeout(300_000);
    before(() => captureGraph());

    it("prod: a label on the ingress group converges its 2 machines and re-syncs their nodes, in place; user-data changed but is ignored", async () => {
        const { before, after, steps } = await twoRuns("prod", (p) => (p.machines.workers.ingress.labels["node.groundwork.io/zone"] = "a"));
        assert.deepStrictEqual(steps.map(line), [
            "update prod-converge-prod-ingress-1 environment.GROUNDWORK_BOOTSTRAP,environment.GROUNDWORK_PART_KUBEADM",
            "update prod-converge-prod-ingress-2 environment.GROUNDWORK_BOOTSTRAP,environment.GROUNDWORK_PART_KUBEADM",
            "update prod-node-prod-ingress-1 environment.GROUNDWORK_LABELS",
            "update prod-node-prod-ingress-2 environment.GROUNDWORK_LABELS",
        ]);
        // The label is in the rendered user-data (kubelet's node-labels), so without ignoreChanges both servers would be replaced.
        for (const n of [1, 2]) {
            const key = `openstack:compute/instance:Instance::prod-ingress-${n}-server`;
            assert.notStrictEqual(before.get(key)!.inputs.userData, after.get(key)!.inputs.userData);
            assert.match(after.get(key)!.inputs.userData, /node\.groundwork\.io\/zone=a/);
            assert.deepStrictEqual(after.get(key)!.ignoreChanges, ["userData"]);
        }
        // What the converge brings is the new bootstrap: it holds the new label.
        assert.match(after.get("command:remote:Command::prod-converge-prod-ingress-1")!.inputs.stdin, /node\.groundwork\.io\/zone=a/);
    });

    it("prod: a version bump (1.33.13 → 1.34.2) replaces nothing and rolls node by node: control planes first, then workers, each drained, converged (upgraded), uncordoned", async () => {
        const { steps } = await twoRuns("prod", (p) => (p.cluster.kubernetesVersion = "1.34.2"));
        assert.deepStrictEqual(steps.filter((s) => s.op !== "update").map(line), []);
        const reports = steps.filter((s) => s.name.endsWith("-certificates"));
        const rollout = steps.filter((s) => s.name.startsWith("prod-converge-") && !reports.includes(s));
        // The control planes' certificate reports are read again after their converge (the bootstrap's digest).
        assert.deepStrictEqual(reports.map(line), [1, 2, 3].map((n) => `update prod-converge-prod-cp-${n}-certificates environment.GROUNDWORK_BOOTSTRAP`));
        // Everything else the bump changes: the etcd snapshot CronJob's image (the new minor's etcd).
        assert.deepStrictEqual(steps.filter((s) => !rollout.includes(s) && !reports.includes(s)).map(line), ["update prod-addons-etcd-snapshot spec.jobTemplate"]);
        const nodes = ["prod-cp-1", "prod-cp-2", "prod-cp-3", ...[1, 2, 3, 4, 5, 6].map((n) => `prod-general-${n}`), "prod-ingress-1", "prod-ingress-2"];
        const expected = nodes.flatMap((n) => [`prod-converge-${n}-drain`, `prod-converge-${n}`, `prod-converge-${n}-uncordon`]);
        assert.deepStrictEqual(rollout.map((s) => s.name).sort(), [...expected].sort());
        // The order: each step waits (through the graph's dependencies) for the one before it, so the 33 run one after another.
        const byName = new Map(graph().map((n) => [n.name, n]));
        for (let i = 1; i < expected.length; i++) {
            assert.ok(waitsFor(byName.get(expected[i])!, byName.get(expected[i - 1])!.urn), `${expected[i]} must wait for ${expected[i - 1]}`);
        }
        // What each converge carries: the engine's configuration (the new minor's pause image), the packages part,
        // and on control planes the kubeadm part (the ClusterConfiguration's version and pins; a worker's join
        // configuration holds no version); the drain and uncordon know the new kubelet version.
        for (const s of rollout.filter((x) => !/-(drain|uncordon)$/.test(x.name))) {
            const kubeadm = s.name.includes("-cp-") ? ["environment.GROUNDWORK_PART_KUBEADM"] : [];
            assert.deepStrictEqual(s.detail, ["environment.GROUNDWORK_BOOTSTRAP", "environment.GROUNDWORK_PART_ENGINE_CONFIG", ...kubeadm, "environment.GROUNDWORK_PART_KUBERNETES"], s.name);
        }
        for (const s of rollout.filter((x) => /-(drain|uncordon)$/.test(x.name))) assert.deepStrictEqual(s.detail, ["environment.GROUNDWORK_KUBELET_VERSION"], s.name);
    });

    it("prod: with rollout.batchSize 3 the 8 workers go in 3 waves (3, 3, 2) after the control planes", async () => {
        resetGraph();
        await runProgram("prod", (c) => {
            const p = JSON.parse(c["groundwork:platform"]);
            p.machines.rollout = { batchSize: 3 };
            c["groundwork:platform"] = JSON.stringify(p);
        });
        const byName = new Map(graph().map((n) => [n.name, n]));
        const drain = (n: string) => byName.get(`prod-converge-${n}-drain`)!;
        const uncordon = (n: string) => byName.get(`prod-converge-${n}-uncordon`)!.urn;
        // general-1..3 together after cp-3; general-4..6 after all of them; ingress-1, ingress-2 after those.
        for (const n of ["prod-general-1", "prod-general-2", "prod-general-3"]) assert.deepStrictEqual(drain(n).deps.filter((d) => d.includes("uncordon")), [uncordon("prod-cp-3")]);
        for (const n of ["prod-general-4", "prod-general-5", "prod-general-6"]) assert.deepStrictEqual(drain(n).deps.filter((d) => d.includes("uncordon")).sort(), ["prod-general-1", "prod-general-2", "prod-general-3"].map(uncordon).sort());
        for (const n of ["prod-ingress-1", "prod-ingress-2"]) assert.deepStrictEqual(drain(n).deps.filter((d) => d.includes("uncordon")).sort(), ["prod-general-4", "prod-general-5", "prod-general-6"].map(uncordon).sort());
    });

    it("prod: an engine change (a new mirror) converges all 11 machines and replaces none", async () => {
        const { steps } = await twoRuns("prod", (p) => p.engine.mirrors.push({ host: "quay.io", endpoints: ["https://quay-mirror.prod.example"] }));
        const converges = steps.filter((s) => s.type === "command:remote:Command" && s.name.startsWith("prod-converge-") && !s.name.endsWith("-certificates"));
        assert.strictEqual(steps.filter((s) => s.name.endsWith("-certificates")).length, 3, "the control planes' certificate reports are read again");
        assert.strictEqual(converges.length, 11, steps.map(line).join("\n"));
        assert.deepStrictEqual(steps.filter((s) => s.op !== "update"), []);
        for (const s of converges) assert.ok(s.detail.some((d) => d.startsWith("environment.GROUNDWORK_PART_ENGINE")), line(s));
    });

    it("customer-dc: a label on the bare-metal group converges those 3 hosts' bootstraps only; the vSphere VMs and the resets stay", async () => {
        const { steps } = await twoRuns("customer-dc", (p) => (p.machines.workers.metal.labels = { ...(p.machines.workers.metal.labels ?? {}), "node.groundwork.io/rack": "r7" }));
        assert.deepStrictEqual(steps.filter((s) => s.type === "command:remote:Command").map(line), [
            // The first bootstrap runs ignore their new script (like user-data): only the converges carry it.
            "update cdc-converge-cdc-metal-01 environment.GROUNDWORK_BOOTSTRAP,environment.GROUNDWORK_PART_KUBEADM",
            "update cdc-converge-cdc-metal-02 environment.GROUNDWORK_BOOTSTRAP,environment.GROUNDWORK_PART_KUBEADM",
            "update cdc-converge-cdc-metal-03 environment.GROUNDWORK_BOOTSTRAP,environment.GROUNDWORK_PART_KUBEADM",
        ]);
        assert.deepStrictEqual(steps.filter((s) => s.op !== "update"), []);
    });
});

describe("scale-in under mocks: a machine leaves only after its node did", function () {
    this.timeout(300_000);
    before(() => captureGraph());

    it("prod: 6 → 5 general workers deletes prod-general-6 only, its leave (drain, Node deleted) before its server and port; nothing else changes", async () => {
        const { steps, beforeGraph } = await twoRuns("prod", (p) => (p.machines.workers.general.count = 5));
        const deleted = steps.filter((s) => s.op === "delete");
        assert.deepStrictEqual(steps.filter((s) => s.op !== "delete").map(line), [], "the machines that stay are not touched");
        assert.ok(deleted.length > 0 && deleted.every((s) => s.name.includes("prod-general-6")), deleted.map(line).join("\n"));
        // Pulumi deletes a resource before every resource it depends on: the order the engine must follow.
        const byName = new Map(beforeGraph.map((n) => [n.name, n]));
        const leave = byName.get("prod-converge-prod-general-6-leave")!;
        assert.ok(leave, deleted.map(line).join("\n"));
        for (const other of ["prod-general-6-server", "prod-general-6-port"]) {
            const n = byName.get(other);
            assert.ok(n && deleted.some((s) => s.name === other), `${other} is deleted`);
            assert.ok(waitsFor(leave, n.urn, beforeGraph), `the leave must depend on ${other}, so it is deleted first`);
        }
        // The leave's own inputs: only a delete, run as the program runs it, knowing the node and its role.
        const inputs = recorder.registrations.find((r) => r.name === "prod-converge-prod-general-5-leave")!.inputs;
        assert.deepStrictEqual([inputs.create, inputs.update, inputs.delete], [undefined, undefined, 'node -e "$GROUNDWORK_SCRIPT"']);
        assert.deepStrictEqual([inputs.environment.GROUNDWORK_STEP, inputs.environment.GROUNDWORK_NODE, inputs.environment.GROUNDWORK_ROLE], ["leave", "prod-general-5", "worker"]);
    });

    it("prod: a control plane's etcd member leaves on the machine after its node left; the teardown mark depends on every leave, so a full destroy deletes it first", async () => {
        resetGraph();
        await runProgram("prod");
        const nodes = graph();
        const byName = new Map(nodes.map((n) => [n.name, n]));
        const etcdLeave = byName.get("prod-converge-prod-cp-2-etcd-leave")!;
        const leave = byName.get("prod-converge-prod-cp-2-leave")!;
        assert.ok(waitsFor(leave, etcdLeave.urn), "the Node's leave is deleted before the etcd member leaves");
        assert.ok(waitsFor(etcdLeave, byName.get("prod-cp-2-server")!.urn), "the etcd member leaves before the server goes");
        const leaves = nodes.filter((n) => /-leave$/.test(n.name) && !/-etcd-leave$/.test(n.name)).map((n) => n.name).sort();
        assert.strictEqual(leaves.length, 11, "3 control planes and 8 workers");
        assert.deepStrictEqual(nodes.filter((n) => /-etcd-leave$/.test(n.name)).map((n) => n.name).sort(), ["prod-converge-prod-cp-1-etcd-leave", "prod-converge-prod-cp-2-etcd-leave", "prod-converge-prod-cp-3-etcd-leave"]);
        const mark = byName.get("prod-converge-teardown-mark")!;
        for (const l of leaves) assert.ok(mark.deps.includes(byName.get(l)!.urn), `the teardown mark depends on ${l}`);
        const r = recorder.registrations.find((x) => x.name === "prod-converge-prod-cp-2-etcd-leave")!;
        assert.match(r.inputs.delete, /etcd leave \$node/);
        assert.match(r.inputs.delete, /\nnode=\S*prod-cp-2\S*\n/);
        assert.doesNotMatch(r.inputs.delete, /prod-cp-[13]/);
    });
});

describe("machines.sshBastion: every SSH connection of the program goes through the jump host", function () {
    this.timeout(120_000);

    it("customer-dc: bootstraps, join deliveries, registrations and converges all carry the bastion as connection.proxy, its key a secret", async () => {
        await runProgram("customer-dc", (c) => {
            const p = JSON.parse(c["groundwork:platform"]);
            p.machines.sshBastion = { host: "jump.cdc.customer.example", port: 2222, user: "ops" };
            c["groundwork:platform"] = JSON.stringify(p);
            c["groundwork:sshBastionPrivateKey"] = "-----BEGIN OPENSSH PRIVATE KEY-----\nbastion\n-----END OPENSSH PRIVATE KEY-----\n";
        });
        const remote = recorder.ofType("command:remote:Command");
        // 24, and the 3 control planes' etcd leaves (scale-in) and certificate reports.
        assert.strictEqual(remote.length, 30);
        for (const r of remote) {
            assert.deepStrictEqual([r.inputs.connection.proxy?.host, r.inputs.connection.proxy?.port, r.inputs.connection.proxy?.user], ["jump.cdc.customer.example", 2222, "ops"], r.name);
            assert.match(r.inputs.connection.proxy.privateKey, /bastion/);
            assert.ok(r.secretInputs.some((p) => p === "connection" || p.startsWith("connection")), `${r.name}: the connection (and the bastion's key in it) must be secret`);
        }
    });

    it("validate names the missing key", async () => {
        const { parsePlatform } = await import("../../components/platform/config");
        const { stackConfig } = await import("../support/program");
        const raw = JSON.parse(stackConfig("customer-dc").config["groundwork:platform"]);
        raw.machines.sshBastion = { host: "jump.cdc.customer.example" };
        const r = parsePlatform(raw, new Set(["vspherePassword", "sshPrivateKey"]));
        assert.ok(r.problems.some((x) => x.path === "platform.machines.sshBastion" && /needs the secret groundwork:sshBastionPrivateKey \(the bastion's key for groundwork\)/.test(x.message)), JSON.stringify(r.problems));
    });
});
