/**
 * The rollout's drain and uncordon (issue 13, item 2) against a real kube-apiserver v1.33.13 on
 * loopback, run as the program runs them (`node -e` with the environment the Convergence gives
 * them). No kubelet runs: a stand-in loop finishes the pods the API marks for deletion (as a
 * kubelet would once their containers stop), and node status is written through its subresource.
 * No controller manager runs either: the test writes a PodDisruptionBudget's status as the
 * disruption controller would (no disruption allowed), so the API refuses evicting the pod it
 * covers (429): the drain must wait, then fail naming the pod.
 */
import * as assert from "assert";
import { DRAINED_FOR, NODE_DRAIN_SCRIPT, NODE_UNCORDON_SCRIPT } from "../../components/cluster/rollout";
import { useNodeObjects } from "../support/node-objects";

describe("rollout: drain and uncordon against a real kube-apiserver v1.33.13", function () {
    this.timeout(300_000);
    const o = useNodeObjects();
    const node = (name: string, kubeletVersion: string, ready: "True" | "False" = "True") => o.node(name, { kubeletVersion, ready });
    const pod = (name: string, nodeName: string, extra: { owner?: string; labels?: Record<string, string>; annotations?: Record<string, string> } = {}) => o.pod(name, nodeName, extra);
    const podsOn = (n: string) => o.podsOn(n);
    const runScript = (script: string, step: string, nodeName: string, version: string, timeout: number) =>
        o.runScript(script, { GROUNDWORK_STEP: step, GROUNDWORK_NODE: nodeName, GROUNDWORK_KUBELET_VERSION: version, GROUNDWORK_TIMEOUT: String(timeout) });

    it("drains a node moving to a new kubelet: cordoned and marked, its ReplicaSet pod evicted, DaemonSet and static pods left; then uncordons it once Ready at the new version", async () => {
        node("n1", "v1.33.13");
        pod("web-1", "n1", { owner: "ReplicaSet" });
        pod("agent-1", "n1", { owner: "DaemonSet" });
        pod("kube-apiserver-n1", "n1", { annotations: { "kubernetes.io/config.mirror": "abc" } });
        const drain = await runScript(NODE_DRAIN_SCRIPT, "drain", "n1", "v1.34.2", 60);
        assert.strictEqual(drain.code, 0, drain.stdout + drain.stderr);
        assert.match(drain.stdout, /drain n1: cordoned \(kubelet v1\.33\.13 → v1\.34\.2\)/);
        assert.match(drain.stdout, /drain n1: evicting default\/web-1/);
        assert.match(drain.stdout, /drain n1: drained/);
        assert.deepStrictEqual(podsOn("n1"), ["agent-1", "kube-apiserver-n1"]);
        const cordoned = o.json(["get", "node", "n1"]);
        assert.strictEqual(cordoned.spec.unschedulable, true);
        assert.strictEqual(cordoned.metadata.annotations[DRAINED_FOR], "v1.34.2");

        // Not yet at the new version: the uncordon waits, and gives up naming what it saw.
        const early = await runScript(NODE_UNCORDON_SCRIPT, "uncordon", "n1", "v1.34.2", 4);
        assert.strictEqual(early.code, 1);
        assert.match(early.stderr, /uncordon n1 failed: not Ready at v1\.34\.2 after 4s \(kubelet v1\.33\.13, Ready True\); the node stays cordoned/);
        // The kubelet restarted on 1.34.2: uncordoned, the mark gone.
        node("n1", "v1.34.2");
        const up = await runScript(NODE_UNCORDON_SCRIPT, "uncordon", "n1", "v1.34.2", 30);
        assert.strictEqual(up.code, 0, up.stdout + up.stderr);
        assert.match(up.stdout, /uncordon n1: Ready at v1\.34\.2; uncordoned/);
        const after = o.json(["get", "node", "n1"]);
        assert.strictEqual(after.spec.unschedulable, undefined);
        assert.strictEqual(after.metadata.annotations?.[DRAINED_FOR], undefined);
        // A drain for the version the kubelet already runs does nothing (an update for another reason).
        const again = await runScript(NODE_DRAIN_SCRIPT, "drain", "n1", "v1.34.2", 30);
        assert.match(again.stdout, /kubelet already at v1\.34\.2; nothing to drain/);
        assert.strictEqual(o.json(["get", "node", "n1"]).spec.unschedulable, undefined);
    });

    it("stops at a PodDisruptionBudget it cannot satisfy within the timeout, naming the pod; the node stays cordoned", async () => {
        node("n2", "v1.33.13");
        pod("db-0", "n2", { owner: "StatefulSet", labels: { app: "db" } });
        // Running and Ready (the API lets a Pending pod go whatever its budget says).
        const now = new Date().toISOString();
        o.k(["patch", "pod", "db-0", "--subresource=status", "--type=merge", "-p", JSON.stringify({ status: { phase: "Running", conditions: [{ type: "Ready", status: "True", lastTransitionTime: now }] } })]);
        o.k(["apply", "-f", "-"], JSON.stringify({ apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "db", namespace: "default" }, spec: { minAvailable: 1, selector: { matchLabels: { app: "db" } } } }));
        // What the disruption controller would write: one healthy pod, one wanted, no disruption allowed.
        o.k(["patch", "pdb", "db", "--subresource=status", "--type=merge", "-p", JSON.stringify({ status: { observedGeneration: 1, disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 } })]);
        const r = await runScript(NODE_DRAIN_SCRIPT, "drain", "n2", "v1.34.2", 8);
        assert.strictEqual(r.code, 1, r.stdout);
        assert.match(r.stdout, /waiting: a PodDisruptionBudget refuses evicting default\/db-0/);
        assert.match(r.stderr, /drain n2 failed: pods still on the node after 8s: default\/db-0 \(a PodDisruptionBudget refuses evicting default\/db-0\); the node stays cordoned, run pulumi up again/);
        assert.deepStrictEqual(podsOn("n2"), ["db-0"]);
        assert.strictEqual(o.json(["get", "node", "n2"]).spec.unschedulable, true);
    });

    it("refuses to evict a pod no controller would bring back; an operator's own cordon is left alone by the uncordon", async () => {
        node("n3", "v1.33.13");
        pod("debug", "n3");
        const r = await runScript(NODE_DRAIN_SCRIPT, "drain", "n3", "v1.34.2", 30);
        assert.strictEqual(r.code, 1, r.stdout);
        assert.match(r.stderr, /pods without a controller would be lost: default\/debug; delete them or give them a controller/);
        assert.deepStrictEqual(podsOn("n3"), ["debug"]);
        node("n4", "v1.34.2");
        o.k(["cordon", "n4"]);
        const u = await runScript(NODE_UNCORDON_SCRIPT, "uncordon", "n4", "v1.34.2", 30);
        assert.match(u.stdout, /not cordoned by a rollout, left as it is/);
        assert.strictEqual(o.json(["get", "node", "n4"]).spec.unschedulable, true);
    });
});
