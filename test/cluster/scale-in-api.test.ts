/**
 * Scale-in (issue 13, item 3): a node's leave step and the cluster's teardown mark against a real
 * kube-apiserver v1.33.13 on loopback, run as the program runs them (`node -e` with the environment
 * the Convergence gives them). No kubelet runs: a stand-in loop finishes the pods the API marks for
 * deletion, and node status (Ready or not) is written through its subresource.
 */
import * as assert from "assert";
import { LEAVING, NODE_LEAVE_SCRIPT, TEARDOWN_CONFIGMAP, TEARDOWN_MARK_SCRIPT } from "../../components/cluster/scale-in";
import { freePort } from "../support/net";
import { useNodeObjects } from "../support/node-objects";

describe("scale-in: a node's leave and the teardown mark against a real kube-apiserver v1.33.13", function () {
    this.timeout(300_000);
    const o = useNodeObjects();
    const leave = (nodeName: string, role: "worker" | "control-plane", url?: string, timeout = "30") => o.runScript(NODE_LEAVE_SCRIPT, { GROUNDWORK_STEP: "leave", GROUNDWORK_NODE: nodeName, GROUNDWORK_ROLE: role, GROUNDWORK_TIMEOUT: timeout }, url);
    const mark = (step: "create" | "delete") => o.runScript(TEARDOWN_MARK_SCRIPT, { GROUNDWORK_STEP: step, GROUNDWORK_TIMEOUT: "30" });
    const nodes = () => (o.json(["get", "nodes"]).items as { metadata: { name: string } }[]).map((n) => n.metadata.name).sort();
    const node = (name: string, ready: "True" | "False", controlPlane = false) => o.node(name, { ready, controlPlane });
    const pod = (name: string, nodeName: string, owner?: string, annotations?: Record<string, string>) => o.pod(name, nodeName, { owner, annotations });
    const podsOn = (n: string) => o.podsOn(n);

    it("a leaving worker is cordoned, drained (its DaemonSet and static pods stay) and its Node deleted; a second run finds nothing", async () => {
        node("w1", "True");
        node("w2", "True");
        pod("app-1", "w1", "ReplicaSet");
        pod("agent-w1", "w1", "DaemonSet");
        pod("proxy-w1", "w1", undefined, { "kubernetes.io/config.mirror": "x" });
        const r = await leave("w1", "worker");
        assert.strictEqual(r.code, 0, r.stdout + r.stderr);
        assert.match(r.stdout, /leave w1: cordoned: the machine leaves the platform/);
        assert.match(r.stdout, /leave w1: evicting default\/app-1/);
        assert.match(r.stdout, /leave w1: drained/);
        assert.match(r.stdout, /leave w1: Node deleted/);
        assert.deepStrictEqual(nodes(), ["w2"]);
        // Evicted: gone from the API (the DaemonSet's and the static pod stay bound to the deleted name until their node's kubelet goes).
        assert.deepStrictEqual(podsOn("w1"), ["agent-w1", "proxy-w1"]);
        const again = await leave("w1", "worker");
        assert.strictEqual(again.code, 0, again.stderr);
        assert.match(again.stdout, /leave w1: not registered; nothing to drain or delete/);
    });

    it("a pod without a controller stops the leave, naming it; the node stays cordoned and marked", async () => {
        node("w3", "True");
        pod("lonely", "w3");
        const r = await leave("w3", "worker");
        assert.strictEqual(r.code, 1);
        assert.match(r.stderr, /leave w3 failed: pods without a controller would be lost: default\/lonely/);
        const n = o.json(["get", "node", "w3"]);
        assert.strictEqual(n.spec.unschedulable, true);
        assert.strictEqual(n.metadata.annotations[LEAVING], "true");
        o.k(["delete", "pod", "lonely", "--grace-period=0", "--force"]);
    });

    it("a control plane leaves only while the Ready others keep etcd's quorum; the last one never", async () => {
        node("c1", "True", true);
        node("c2", "False", true);
        node("c3", "True", true);
        // 3 → 2 members: quorum 2, and only c3 of the two others is Ready.
        const refused = await leave("c1", "control-plane");
        assert.strictEqual(refused.code, 1);
        assert.match(refused.stderr, /leave c1 failed: removing it would leave 1 Ready control plane\(s\) of 2 \(c3\), below etcd's quorum of 2; bring the others back first/);
        assert.strictEqual(o.json(["get", "node", "c1"]).spec.unschedulable, undefined, "a refused leave cordons nothing");
        node("c2", "True", true);
        const ok = await leave("c1", "control-plane");
        assert.strictEqual(ok.code, 0, ok.stdout + ok.stderr);
        assert.match(ok.stdout, /leave c1: etcd keeps its quorum: 2 Ready control plane\(s\) of 2 left, quorum 2/);
        assert.match(ok.stdout, /leave c1: Node deleted/);
        // 2 → 1: quorum 1, c3 Ready.
        const second = await leave("c2", "control-plane");
        assert.strictEqual(second.code, 0, second.stdout + second.stderr);
        assert.match(second.stdout, /etcd keeps its quorum: 1 Ready control plane\(s\) of 1 left, quorum 1/);
        const last = await leave("c3", "control-plane");
        assert.strictEqual(last.code, 1);
        assert.match(last.stderr, /leave c3 failed: it is the last control plane: removing it ends the cluster; destroy the stack instead/);
        assert.ok(nodes().includes("c3"));
    });

    it("a full destroy's teardown mark makes every leave drain nothing; creating the mark step again clears it", async () => {
        const set = await mark("delete");
        assert.strictEqual(set.code, 0, set.stderr);
        assert.match(set.stdout, /teardown mark: set/);
        assert.strictEqual(o.json(["-n", "kube-system", "get", "configmap", TEARDOWN_CONFIGMAP]).metadata.name, TEARDOWN_CONFIGMAP);
        pod("app-2", "w2", "ReplicaSet");
        const skipped = await leave("w2", "worker");
        assert.strictEqual(skipped.code, 0, skipped.stderr);
        assert.match(skipped.stdout, /leave w2: the cluster is being destroyed; nothing to drain/);
        assert.ok(nodes().includes("w2"));
        assert.deepStrictEqual(podsOn("w2"), ["app-2"]);
        const last = await leave("c3", "control-plane");
        assert.strictEqual(last.code, 0, "the last control plane goes with the cluster");
        const cleared = await mark("create");
        assert.match(cleared.stdout, /teardown mark: removed \(left by an interrupted destroy\)/);
        assert.match((await mark("create")).stdout, /teardown mark: not set/);
        assert.match(o.k(["-n", "kube-system", "get", "configmaps", "-o", "name"]), /^(?![\s\S]*groundwork-teardown)/);
    });

    it("an API that does not answer fails the leave naming the endpoint, and the machine stays", async () => {
        const port = await freePort();
        const r = await leave("w2", "worker", `https://127.0.0.1:${port}`, "3");
        assert.strictEqual(r.code, 1);
        assert.match(r.stderr, new RegExp(`leave w2 failed: the API at https://127\\.0\\.0\\.1:${port} did not answer for the teardown mark within 3s \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\); the node was not drained and its machine stays`));
    });
});
