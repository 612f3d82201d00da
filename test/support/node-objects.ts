/**
 * Nodes and pods on a loopback kube-apiserver with no kubelet (test/support/apiserver.ts), for the
 * rollout's and scale-in's scripts: nodes whose status is written through its subresource, pods
 * bound to them, and a stand-in for the kubelet's part of a pod's deletion.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { LoopbackApiServer } from "./apiserver";

export type ScriptRun = { code: number; stdout: string; stderr: string };

export class NodeObjects {
    private kubelet?: NodeJS.Timeout;

    constructor(private readonly server: LoopbackApiServer) {}

    k(args: string[], input?: string): string {
        return this.server.kubectl(args, input);
    }

    json(args: string[]): any {
        return JSON.parse(this.k([...args, "-o", "json"]));
    }

    /** A Node with a Ready condition (and a kubelet version when given), optionally labelled a control plane. */
    node(name: string, o: { ready?: "True" | "False"; kubeletVersion?: string; controlPlane?: boolean } = {}): void {
        this.k(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "Node", metadata: { name, labels: o.controlPlane ? { "node-role.kubernetes.io/control-plane": "" } : {} } }));
        const now = new Date().toISOString();
        const nodeInfo = o.kubeletVersion ? { nodeInfo: { kubeletVersion: o.kubeletVersion, machineID: "", systemUUID: "", bootID: "", kernelVersion: "", osImage: "", containerRuntimeVersion: "", kubeProxyVersion: "", operatingSystem: "linux", architecture: "amd64" } } : {};
        const status = { ...nodeInfo, conditions: [{ type: "Ready", status: o.ready ?? "True", lastHeartbeatTime: now, lastTransitionTime: now, reason: "KubeletReady", message: "" }] };
        this.k(["patch", "node", name, "--subresource=status", "--type=merge", "-p", JSON.stringify({ status })]);
    }

    /** A pod bound to `nodeName`, owned by a controller of kind `owner` when given. */
    pod(name: string, nodeName: string, extra: { owner?: string; labels?: Record<string, string>; annotations?: Record<string, string> } = {}): void {
        const ownerReferences = extra.owner ? [{ apiVersion: "apps/v1", kind: extra.owner, name: `${name}-owner`, uid: "0d5c2a64-8e5a-4d55-9c0e-4a1f7b6b9c01", controller: true }] : undefined;
        this.k(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "default", labels: extra.labels, annotations: extra.annotations, ownerReferences }, spec: { nodeName, containers: [{ name: "c", image: "docker.io/groundwork/tiny:1.0" }] } }));
    }

    /** The names of the pods bound to `node`, sorted. */
    podsOn(node: string): string[] {
        return (this.json(["get", "pods", "-A", "--field-selector", `spec.nodeName=${node}`]).items as { metadata: { name: string } }[]).map((p) => p.metadata.name).sort();
    }

    /** The kubelet's part: a pod marked for deletion goes once its containers stopped (at once here). */
    startKubelet(): void {
        this.kubelet = setInterval(() => {
            try {
                const items = this.json(["get", "pods", "-A"]).items as { metadata: { name: string; namespace: string; deletionTimestamp?: string } }[];
                for (const p of items.filter((x) => x.metadata.deletionTimestamp)) this.k(["delete", "pod", "-n", p.metadata.namespace, p.metadata.name, "--grace-period=0", "--force", "--wait=false"]);
            } catch {
                // the server may be stopping
            }
        }, 1000);
    }

    stopKubelet(): void {
        if (this.kubelet) clearInterval(this.kubelet);
    }

    /** Runs a Node.js script as the program's local commands run it (`node -e`), the API as the admin. */
    runScript(script: string, env: Record<string, string>, server?: string): Promise<ScriptRun> {
        const f = (n: string) => fs.readFileSync(path.join(this.server.dir, n), "utf8");
        const url = server ?? /server: "([^"]+)"/.exec(fs.readFileSync(this.server.kubeconfig, "utf8"))![1];
        const all = { PATH: process.env.PATH, GROUNDWORK_SERVER: url, GROUNDWORK_CA: f("ca.crt"), GROUNDWORK_CERT: f("admin.crt"), GROUNDWORK_KEY: f("admin.key"), ...env };
        return new Promise((resolve) => {
            execFile("node", ["-e", script], { env: all, timeout: 120_000 }, (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
        });
    }
}

/** A loopback kube-apiserver with the kubelet stand-in for the enclosing describe: started before, stopped after. */
export function useNodeObjects(): NodeObjects {
    const server = new LoopbackApiServer();
    const o = new NodeObjects(server);
    before(async () => {
        await server.start();
        o.startKubelet();
    });
    after(async () => {
        o.stopKubelet();
        await server.stop();
    });
    return o;
}
