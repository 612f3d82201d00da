import { API_CLIENT_JS } from "./commands";

/**
 * The two Node.js scripts a rollout runs from the Pulumi host around a node's converge when its
 * Kubernetes version changes (run as `node -e "$GROUNDWORK_SCRIPT"`, everything through the
 * environment, with the admin certificate like the node sync):
 * - drain: cordon the node and evict its pods through the Eviction API, which honours
 *   PodDisruptionBudgets (a 429 is retried until the timeout);
 * - uncordon: wait until the node is Ready with the new kubelet, then make it schedulable again.
 * Both act only when the version changes: a node whose kubelet is already at the wanted version is
 * neither drained nor touched (so an update of these commands for another reason does nothing),
 * and only a node this rollout cordoned is uncordoned (an operator's cordon stays).
 */

/** Annotation the drain leaves on a node it cordoned: the version it drained it for. */
export const DRAINED_FOR = "groundwork.io/drained-for";

// The shared head (also the leave script's, scale-in.ts): the API client (API_CLIENT_JS) with the admin certificate, and logging.
export const ROLLOUT_HEAD = String.raw`"use strict";
const e = process.env;
const node = e.GROUNDWORK_NODE;
const want = e.GROUNDWORK_KUBELET_VERSION;
const started = Date.now();
const limit = Number(e.GROUNDWORK_TIMEOUT) * 1000;
const elapsed = () => Math.round((Date.now() - started) / 1000) + "s";
const log = (m) => console.log("[groundwork] " + e.GROUNDWORK_STEP + " " + node + ": " + m + " (" + elapsed() + ")");
const fail = (m) => { console.error("[groundwork] " + e.GROUNDWORK_STEP + " " + node + " failed: " + m + " (" + elapsed() + ")"); process.exit(1); };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
${API_CLIENT_JS}
const nodePath = "/api/v1/nodes/" + encodeURIComponent(node);
// An object, or undefined when the API says it does not exist; retried while the API does not
// answer, until the timeout, then fails naming the endpoint, what was asked and apiAway (what
// that means for the step: a script sets it).
let apiAway = "";
async function getOrMissing(path, what) {
  for (;;) {
    const r = await api("GET", path);
    if (r.status === 200) return JSON.parse(r.body);
    if (r.status === 404) return undefined;
    if (Date.now() - started > limit) fail("the API at " + e.GROUNDWORK_SERVER + " did not answer for " + what + " within " + e.GROUNDWORK_TIMEOUT + "s (" + (r.status || r.body) + ")" + apiAway);
    log("the API answered " + (r.status || r.body) + " for " + what + "; retrying");
    await sleep(3000);
  }
}
const getNode = () => getOrMissing(nodePath, "the node");
const patchNode = (patch) => api("PATCH", nodePath, patch, "application/merge-patch+json");
// Evicts every pod on the node but DaemonSet pods, static (mirror) pods and finished ones until none is left.
async function drainPods() {
  const told = new Set();
  for (;;) {
    const r = await api("GET", "/api/v1/pods?fieldSelector=" + encodeURIComponent("spec.nodeName=" + node));
    if (r.status !== 200) {
      if (Date.now() - started > limit) fail("listing the node's pods answered " + (r.status || r.body) + " until the timeout (" + e.GROUNDWORK_TIMEOUT + "s)");
      log("listing pods answered " + (r.status || r.body)); await sleep(3000); continue;
    }
    const pods = JSON.parse(r.body).items.filter((p) => {
      const owners = p.metadata.ownerReferences || [];
      if (owners.some((o) => o.kind === "DaemonSet")) return false;
      if ((p.metadata.annotations || {})["kubernetes.io/config.mirror"]) return false;
      return p.status.phase !== "Succeeded" && p.status.phase !== "Failed";
    });
    const bare = pods.filter((p) => (p.metadata.ownerReferences || []).length === 0 && !p.metadata.deletionTimestamp);
    if (bare.length > 0) fail("pods without a controller would be lost: " + bare.map((p) => p.metadata.namespace + "/" + p.metadata.name).join(", ") + "; delete them or give them a controller, then run pulumi up again");
    if (pods.length === 0) return log("drained");
    const blocked = [];
    for (const p of pods) {
      if (p.metadata.deletionTimestamp) continue;
      const id = p.metadata.namespace + "/" + p.metadata.name;
      const ev = await api("POST", "/api/v1/namespaces/" + p.metadata.namespace + "/pods/" + p.metadata.name + "/eviction", { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: p.metadata.name, namespace: p.metadata.namespace } });
      if (ev.status === 429) { blocked.push(id); continue; }
      if (ev.status >= 200 && ev.status < 300 && !told.has(id)) { told.add(id); log("evicting " + id); }
      else if (ev.status !== 404 && !(ev.status >= 200 && ev.status < 300)) log("eviction of " + id + " answered " + (ev.status || ev.body));
    }
    if (Date.now() - started > limit) fail("pods still on the node after " + e.GROUNDWORK_TIMEOUT + "s: " + pods.map((p) => p.metadata.namespace + "/" + p.metadata.name).join(", ") + (blocked.length ? " (a PodDisruptionBudget refuses evicting " + blocked.join(", ") + ")" : "") + "; the node stays cordoned, run pulumi up again");
    if (blocked.length) log("waiting: a PodDisruptionBudget refuses evicting " + blocked.join(", "));
    await sleep(2000);
  }
}
`;

/**
 * Drain (GROUNDWORK_STEP=drain): cordon, then evict every pod on the node but DaemonSet pods,
 * static (mirror) pods and finished ones, retrying evictions a PodDisruptionBudget refuses, until
 * none is left or GROUNDWORK_TIMEOUT seconds pass (then it fails naming the pods left). A running
 * pod without a controller is refused, as `kubectl drain` does without --force: evicting it would
 * lose it. Nothing happens when the node is not registered or its kubelet already runs
 * GROUNDWORK_KUBELET_VERSION.
 */
export const NODE_DRAIN_SCRIPT = ROLLOUT_HEAD + String.raw`
async function main() {
  const n = await getNode();
  if (!n) return log("not registered; nothing to drain");
  const have = n.status.nodeInfo.kubeletVersion;
  if (have === want) return log("kubelet already at " + want + "; nothing to drain");
  const annotations = n.metadata.annotations || {};
  if (!n.spec.unschedulable || annotations["${DRAINED_FOR}"] !== want) {
    const r = await patchNode({ spec: { unschedulable: true }, metadata: { annotations: { "${DRAINED_FOR}": want } } });
    if (r.status !== 200) fail("cordon answered " + (r.status || r.body));
    log("cordoned (kubelet " + have + " → " + want + ")");
  }
  await drainPods();
}
main();
`;

/**
 * Uncordon (GROUNDWORK_STEP=uncordon): wait until the node is Ready with its kubelet at
 * GROUNDWORK_KUBELET_VERSION, then make it schedulable again, but only when this rollout cordoned
 * it (the DRAINED_FOR annotation). Fails after GROUNDWORK_TIMEOUT seconds naming what it saw.
 */
export const NODE_UNCORDON_SCRIPT = ROLLOUT_HEAD + String.raw`
async function main() {
  for (;;) {
    const n = await getNode();
    if (!n) return log("not registered; nothing to uncordon");
    const ready = (n.status.conditions || []).find((c) => c.type === "Ready");
    const have = n.status.nodeInfo.kubeletVersion;
    if (ready && ready.status === "True" && have === want) {
      const annotations = n.metadata.annotations || {};
      if (annotations["${DRAINED_FOR}"] === undefined) return log("Ready at " + have + "; not cordoned by a rollout, left as it is");
      const r = await patchNode({ spec: { unschedulable: null }, metadata: { annotations: { "${DRAINED_FOR}": null } } });
      if (r.status !== 200) fail("uncordon answered " + (r.status || r.body));
      return log("Ready at " + have + "; uncordoned");
    }
    if (Date.now() - started > limit) fail("not Ready at " + want + " after " + e.GROUNDWORK_TIMEOUT + "s (kubelet " + have + ", Ready " + (ready ? ready.status : "unknown") + "); the node stays cordoned");
    await sleep(3000);
  }
}
main();
`;
