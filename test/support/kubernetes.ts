import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { CLUSTER_PROVIDER, engineInputs } from "../../cli/commands/render";
import { loadStackFile, stackFilePath, stackNames } from "../../cli/stackfile";
import { CERTIFICATE_KEY_MARKER, TOKEN_MARKER } from "../../components/cluster/join";
import { PATHS } from "../../components/cluster/parts";
import { PlatformSpec } from "../../components/platform/config";
import { writeStackFile } from "./cli";

/**
 * The Kubernetes binaries tools/kubernetes/build.sh builds from Go modules (tools/test.sh builds
 * them before the unit stage and exports GROUNDWORK_K8S_BIN). A missing binary is an error that
 * says how to build it, never a skipped test.
 */
export function k8sBinary(name: string): string {
    const dir = process.env.GROUNDWORK_K8S_BIN ?? path.join(process.env.GROUNDWORK_CACHE ?? path.join(os.homedir(), ".cache", "groundwork"), "kubernetes", "bin");
    const file = path.join(dir, name);
    if (!fs.existsSync(file)) throw new Error(`${file} is missing: run tools/kubernetes/build.sh (tools/test.sh unit does it) or set GROUNDWORK_K8S_BIN`);
    return file;
}

/** Runs a built binary; stdout, or an Error carrying its stderr. */
export function runK8s(name: string, args: string[]): string {
    try {
        return execFileSync(k8sBinary(name), args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
    } catch (e) {
        const err = e as { stderr?: string; stdout?: string; message: string };
        throw new Error(`${name} ${args.join(" ")} failed: ${err.stderr || err.stdout || err.message}`);
    }
}

/**
 * Syntactically valid stand-ins for the cluster layer's deploy-time placeholders, in the formats
 * kubeadm checks (token `[a-z0-9]{6}.[a-z0-9]{16}`, 32-byte hex key, `sha256:<64 hex>` CA pin).
 */
export const PLACEHOLDER_VALUES: Record<string, string> = {
    "bootstrap-token": "abcdef.0123456789abcdef",
    "certificate-key": "0123456789abcdef".repeat(4),
    "cluster-ca-hash": `sha256:${"ab".repeat(32)}`,
};

export function fillPlaceholders(text: string): string {
    // The join markers are what the node's fill_kubeadm_config replaces with the material delivered over SSH.
    const filled = text.split(TOKEN_MARKER).join(PLACEHOLDER_VALUES["bootstrap-token"]).split(CERTIFICATE_KEY_MARKER).join(PLACEHOLDER_VALUES["certificate-key"]);
    const out = filled.replace(/@@GROUNDWORK:([a-z0-9-]+)@@/g, (m, name: string) => PLACEHOLDER_VALUES[name] ?? m);
    const left = /@@GROUNDWORK:[a-z0-9-]+@@/.exec(out);
    if (left) throw new Error(`no stand-in value for placeholder ${left[0]}`);
    return out;
}

export interface KubeadmConfigFile {
    stack: string;
    machine: string;
    kind: "init" | "control-plane join" | "worker join" | "upgrade";
    content: string;
}

/**
 * Every kubeadm config file the cluster layer renders for a stack, exactly as `groundwork render`
 * renders it (the same provider and engine wiring), placeholders filled in.
 */
export function kubeadmConfigs(stack: string, spec: PlatformSpec): KubeadmConfigFile[] {
    const { engine, engineOptions } = engineInputs(spec);
    return spec.machines.flatMap((machine) =>
        CLUSTER_PROVIDER.parts({ spec, machine, engine, engineOptions }).flatMap((part) =>
            part.files.flatMap((f): KubeadmConfigFile[] => {
                if (f.path === PATHS.initTemplate) return [{ stack, machine: machine.name, kind: "init", content: fillPlaceholders(f.content) }];
                if (f.path === PATHS.upgradeConfig) return [{ stack, machine: machine.name, kind: "upgrade", content: f.content }];
                if (f.path !== PATHS.joinTemplate) return [];
                // The first control plane carries a join file too: it joins when it is replaced.
                return [{ stack, machine: machine.name, kind: machine.role === "control-plane" ? "control-plane join" : "worker join", content: fillPlaceholders(f.content) }];
            }),
        ),
    );
}

export function exampleSpec(name: string): PlatformSpec {
    const s = loadStackFile(stackFilePath(name)).spec;
    if (!s) throw new Error(`example stack ${name} does not validate`);
    return s;
}

/** An example stack with its `groundwork:platform` changed by `edit`, loaded from a temp stack file. */
export function variantSpec(base: string, edit: (platform: any) => void): PlatformSpec {
    const doc = parseYaml(fs.readFileSync(stackFilePath(base), "utf8")) as { config: Record<string, any> };
    edit(doc.config["groundwork:platform"]);
    const loaded = loadStackFile(writeStackFile(doc.config));
    if (!loaded.spec) throw new Error(`variant of ${base} does not validate: ${loaded.problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`);
    return loaded.spec;
}

/**
 * The example stacks and the variants every kubeadm oracle runs on: docker engine, behind a
 * proxy (qa), air-gapped through a standalone registry (customer-dc), Harbor with proxy caches of
 * registry.k8s.io and ghcr.io (containerd's mirrors; kubeadm keeps the upstream names), and with cluster.tuning (the real-cluster guest test's timeouts).
 */
/** The real-cluster guest test's stack (test/guest/stacks/Pulumi.guest-cluster.yaml): flannel, bare metal, air-gapped, tuned. */
export function guestClusterSpec(): PlatformSpec {
    const file = path.resolve(__dirname, "../guest/stacks/Pulumi.guest-cluster.yaml");
    const s = loadStackFile(file).spec;
    if (!s) throw new Error(`${file} does not validate`);
    return s;
}

export function oracleStacks(): [string, PlatformSpec][] {
    return [
        ...stackNames().map((n) => [n, exampleSpec(n)] as [string, PlatformSpec]),
        ["qa-docker", variantSpec("qa", (p) => (p.engine.kind = "docker"))],
        ["guest-cluster", guestClusterSpec()],
        ["customer-dc-tuned", variantSpec("customer-dc", (p) => (p.cluster.tuning = { kubeadmTimeoutMinutes: 30, controlPlaneStartupSeconds: 1500 }))],
        [
            "prod-harbor-k8s-cache",
            variantSpec("prod", (p) => {
                p.registry.proxyCache.push({ name: "k8s", upstream: "https://registry.k8s.io" }, { name: "ghcr", upstream: "https://ghcr.io" });
            }),
        ],
    ];
}
