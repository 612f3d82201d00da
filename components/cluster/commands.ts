/**
 * The two scripts the Pulumi host runs against the cluster (through @pulumi/command local.Command):
 * the bounded wait for the API, and the per-node sync of labels and taints. Both take everything
 * through environment variables, so the command text itself never holds a secret.
 */

/** Default seconds the host waits for `/readyz` behind the endpoint. */
export const API_WAIT_SECONDS = 1800;

/**
 * Bash: poll `$GROUNDWORK_ENDPOINT/readyz` with the cluster CA until it answers or
 * `$GROUNDWORK_TIMEOUT` seconds pass. `/readyz` is readable anonymously, so no credential is used.
 */
export const WAIT_FOR_API_SCRIPT = `set -euo pipefail
ca="$(mktemp)"
trap 'rm -f "$ca"' EXIT
printf '%s\\n' "$GROUNDWORK_CA" > "$ca"
start=$SECONDS
until curl -fsS --max-time 5 --cacert "$ca" "$GROUNDWORK_ENDPOINT/readyz" >/dev/null 2>&1; do
  if [ $((SECONDS - start)) -ge "$GROUNDWORK_TIMEOUT" ]; then
    echo "[groundwork] the API at $GROUNDWORK_ENDPOINT did not become ready within $((SECONDS - start))s; look at the first control plane's bootstrap log" >&2
    exit 1
  fi
  echo "[groundwork] waiting for $GROUNDWORK_ENDPOINT/readyz ($((SECONDS - start))s)"
  sleep 10
done
echo "[groundwork] the API at $GROUNDWORK_ENDPOINT is ready after $((SECONDS - start))s"
`;

/**
 * The API client the Node.js scripts share (node sync, drain, uncordon): `api(method, path, body,
 * type, timeoutMs)` against $GROUNDWORK_SERVER, with the cluster CA and the admin certificate from
 * the environment over https; resolves to {status, body}, status 0 with the error's message when
 * the request failed (never rejects). Expects `e = process.env`.
 */
export const API_CLIENT_JS = String.raw`const apiBase = e.GROUNDWORK_SERVER;
const apiClient = require(new URL(apiBase).protocol === "https:" ? "https" : "http");
const apiTls = new URL(apiBase).protocol === "https:" ? { ca: e.GROUNDWORK_CA, cert: e.GROUNDWORK_CERT, key: e.GROUNDWORK_KEY } : {};
function api(method, path, body, type, timeoutMs) {
  return new Promise((resolve) => {
    const headers = body ? { "content-type": type || "application/json" } : {};
    const req = apiClient.request(new URL(path, apiBase), { method, headers, timeout: timeoutMs || 15000, ...apiTls }, (res) => {
      let data = "";
      res.on("data", (c) => (data += c));
      res.on("end", () => resolve({ status: res.statusCode, body: data }));
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", (err) => resolve({ status: 0, body: String(err.message) }));
    req.end(body ? JSON.stringify(body) : undefined);
  });
}`;

/**
 * Node.js (run as `node -e "$GROUNDWORK_SYNC"`): waits for the node to register, then makes its
 * groundwork labels and taints equal the config. What groundwork set before is remembered in the
 * `groundwork.io/managed` annotation, so labels and taints removed from the config are removed
 * from the node, and taints others own (node lifecycle, cloud provider) are kept. A merge patch
 * carrying the resourceVersion makes concurrent writers retry instead of losing updates.
 */
export const NODE_SYNC_SCRIPT = String.raw`"use strict";
const e = process.env;
const MANAGED = "groundwork.io/managed";
${API_CLIENT_JS}
const nodePath = "/api/v1/nodes/" + encodeURIComponent(e.GROUNDWORK_NODE);
const started = Date.now();
const elapsed = () => Math.round((Date.now() - started) / 1000) + "s";
const log = (m) => console.log("[groundwork] node " + e.GROUNDWORK_NODE + ": " + m + " (" + elapsed() + ")");
const request = (method, body) => api(method, nodePath, body, "application/merge-patch+json", 10000);
const retry = Number(e.GROUNDWORK_RETRY_MS || 10000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
async function main() {
  const labels = JSON.parse(e.GROUNDWORK_LABELS);
  const taints = JSON.parse(e.GROUNDWORK_TAINTS);
  const limit = Number(e.GROUNDWORK_TIMEOUT) * 1000;
  for (;;) {
    if (Date.now() - started > limit) {
      console.error("[groundwork] node " + e.GROUNDWORK_NODE + ": not in sync after " + elapsed() + "; is the machine joined? (kubeadm log in its bootstrap output)");
      process.exit(1);
    }
    const got = await request("GET");
    if (got.status !== 200) {
      log(got.status === 404 ? "waiting for the node to register" : "API answered " + (got.status || got.body));
      await sleep(retry);
      continue;
    }
    const node = JSON.parse(got.body);
    const annotations = node.metadata.annotations || {};
    const prev = annotations[MANAGED] ? JSON.parse(annotations[MANAGED]) : { labels: [], taints: [] };
    const current = node.metadata.labels || {};
    const labelPatch = {};
    for (const k of prev.labels) if (!(k in labels) && k in current) labelPatch[k] = null;
    for (const [k, v] of Object.entries(labels)) if (current[k] !== v) labelPatch[k] = v;
    const owned = new Set([...prev.taints, ...taints.map((t) => t.key)]);
    const others = (node.spec.taints || []).filter((t) => !owned.has(t.key));
    const mine = (node.spec.taints || []).filter((t) => owned.has(t.key)).map((t) => ({ key: t.key, value: t.value, effect: t.effect }));
    const wanted = taints.map((t) => ({ key: t.key, value: t.value, effect: t.effect }));
    const record = JSON.stringify({ labels: Object.keys(labels).sort(), taints: taints.map((t) => t.key).sort() });
    if (Object.keys(labelPatch).length === 0 && same(mine, wanted) && annotations[MANAGED] === record) {
      log("labels and taints already in sync");
      return;
    }
    const patch = {
      metadata: { resourceVersion: node.metadata.resourceVersion, labels: labelPatch, annotations: { [MANAGED]: record } },
      spec: { taints: [...others, ...taints] },
    };
    const put = await request("PATCH", patch);
    if (put.status === 200) {
      log("labels and taints in sync");
      return;
    }
    log("patch answered " + (put.status || put.body) + "; retrying");
    await sleep(put.status === 409 ? 200 : retry);
  }
}
main();
`;
