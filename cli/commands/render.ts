import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { stringify } from "yaml";
import { UsageError, parseFlags } from "../args";
import { prepareOut, RENDER_MARKER, renderMarker } from "../render-out";
import { EXIT, reportProblems, specOrExit, STACK_FLAGS } from "../common";
import { userDataProblems } from "../userdata-size";
import { resetModeOf } from "../../components/machines/config";
import { BootstrapIdentity, BootstrapPart, partDigests, placeholder, placeholdersIn, renderBootstrapScript, renderResetScript, renderUserData } from "../../components/engine/bootstrap";
import { EngineConfig } from "../../components/engine/config";
import { EngineOptions, engineModule, engineParts, enginePackages } from "../../components/engine/engines";
import { sandboxImage } from "../../components/engine/render-containerd";
import { MachineSpec, PlatformSpec } from "../../components/platform/config";
import { clusterParts, firstControlPlane, JOIN_MATERIAL_PATH, JOIN_TOKEN_TTL, joinMaterialNames, renderFlannelManifest } from "../../components/cluster";
import { nodeClusterSettings, nodeEngine, nodeRegistry, stackWorkloadObjects } from "../../components/platform/wiring";
import { DEFAULT_REGISTRY_USER, STANDALONE_PLACEHOLDERS, standaloneRenderParts } from "../../components/registry/render-standalone";

export const summary = "write every machine's bootstrap (cloud-init user-data, bare-metal script), plan.json, the workloads' Kubernetes objects and flannel's manifest (when it is the CNI) to --out DIR";

/** What a layer sees when it contributes to one machine's bootstrap. */
export interface PartsContext {
    spec: PlatformSpec;
    machine: MachineSpec;
    /** The engine config with the platform's wiring (registry mirrors, CA) applied. */
    engine: EngineConfig;
    engineOptions: EngineOptions;
}

/** One layer's contribution to every machine's bootstrap. */
export interface PartsProvider {
    /** Layer name, shown in plan.json. */
    layer: string;
    /** Deploy-time placeholders this layer may leave in scripts: name → what fills it. Defaults to none. */
    placeholders?: Record<string, string>;
    parts(ctx: PartsContext): BootstrapPart[];
}

/** Placeholders of the platform wiring itself (not of one layer's parts). */
const WIRING_PLACEHOLDERS: Record<string, string> = {
    "registry-ca": "PEM of the registry's CA, generated at deploy time (@pulumi/tls) unless registry.harbor.tls is provided",
    "registry-password": "password the nodes' containerd pulls from the standalone registry with (random.RandomPassword, a Pulumi secret; config.toml is 0600)",
};

/**
 * The engine config and options for every machine, as the platform wires them (see
 * components/platform/wiring.ts), with placeholders for the registry's CA and password.
 */
export function engineInputs(spec: PlatformSpec): { engine: EngineConfig; engineOptions: EngineOptions } {
    const harbor = spec.config.registry.harbor;
    // A provided Harbor CA is known now (stack config); a generated one only at deploy time.
    const ca = spec.config.registry.mode === "harbor" && harbor.tls === "provided" && harbor.caCertificate !== undefined ? harbor.caCertificate : placeholder("registry-ca");
    const endpoint = nodeRegistry(spec, ca);
    const auth = endpoint?.mode === "standalone" ? { authority: endpoint.authority, username: DEFAULT_REGISTRY_USER, password: placeholder("registry-password") } : undefined;
    return nodeEngine(spec, endpoint ? { caPem: endpoint.caPem, auth } : undefined);
}

export const ENGINE_PROVIDER: PartsProvider = {
    layer: "engine",
    // The standalone registry machine gets the registry layer's parts instead (they install its package).
    parts: ({ machine, engine, engineOptions }) => (machine.role === "registry" ? [] : engineParts(engine, engineOptions)),
};

/** What the cluster layer leaves in user-data, all of it public: join material never comes this way. */
const CLUSTER_PLACEHOLDERS: Record<string, string> = {
    "cluster-ca": "PEM of the cluster CA's certificate (tls.SelfSignedCert; public)",
    "cluster-ca-hash": "sha256 of the cluster CA's public key, for kubeadm discovery (public)",
    "deploy-ssh-key": "OpenSSH public key of the deploy key (tls.PrivateKey) the program delivers join material with; VMs only (public)",
};

/** Where a cluster node's join material comes from: over SSH at join time, never in user-data. */
const JOIN_MATERIAL: Record<string, string> = {
    token: `the machine's own kubeadm bootstrap token (two random.RandomPassword, secret in state), registered on the first control plane with TTL ${JOIN_TOKEN_TTL} right before the machine joins`,
    "certificate-key": "key of kubeadm's uploaded control-plane certificates (from a random.RandomPassword, secret in state); control planes",
    "ca-key": "the cluster CA's private key (tls.PrivateKey, secret in state); the first control plane",
};

/** The join material a machine receives over SSH, or none (not a cluster node, or no cluster). */
export function joinMaterialOf(spec: PlatformSpec, machine: MachineSpec): string[] {
    if (spec.config.upTo !== "all" || (machine.role !== "control-plane" && machine.role !== "worker")) return [];
    if (machine.role === "worker") return joinMaterialNames("worker");
    return joinMaterialNames(machine.name === firstControlPlane(spec.machines)!.name ? "first-control-plane" : "control-plane");
}

export const CLUSTER_PROVIDER: PartsProvider = {
    layer: "cluster",
    placeholders: CLUSTER_PLACEHOLDERS,
    parts: ({ spec, machine }) => {
        const c = spec.config;
        if (c.upTo !== "all" || (machine.role !== "control-plane" && machine.role !== "worker")) return [];
        const settings = nodeClusterSettings(spec);
        const trust = { caCertPem: placeholder("cluster-ca"), caCertHash: placeholder("cluster-ca-hash") };
        return clusterParts(settings, machine, firstControlPlane(spec.machines)!.name, trust);
    },
};

export const REGISTRY_PROVIDER: PartsProvider = {
    layer: "registry",
    placeholders: STANDALONE_PLACEHOLDERS,
    parts: ({ spec, machine, engine, engineOptions }) => standaloneRenderParts(spec.config.registry, machine, engine, DEFAULT_REGISTRY_USER, engineOptions.noProxy),
};

/**
 * The layers whose parts make up every machine's bootstrap, in run order. The login user
 * (identity) always runs first (renderBootstrapScript adds it). The cluster layer adds its
 * provider after the engine's (kubeadm packages, init/join), the registry layer its standalone
 * registry parts (they run on `machine.role === "registry"` only).
 */
export function partsProviders(): PartsProvider[] {
    return [ENGINE_PROVIDER, CLUSTER_PROVIDER, REGISTRY_PROVIDER];
}

export interface RenderedMachine {
    machine: MachineSpec;
    script: string;
    userData: string;
    parts: string[];
}

export interface RenderedStack {
    /** Output files: path relative to --out → content. */
    files: Map<string, string>;
    machines: RenderedMachine[];
    plan: Record<string, unknown>;
}

const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");

function identityOf(spec: PlatformSpec, m: MachineSpec): BootstrapIdentity {
    const keys = spec.config.machines.sshAuthorizedKeys;
    // As the platform does: VM cluster nodes also take the deploy key their join material comes with.
    const deploy = joinMaterialOf(spec, m).length > 0 && m.backend !== "baremetal" ? [placeholder("deploy-ssh-key")] : [];
    return { hostname: m.name, sshUser: spec.config.machines.sshUser, sshAuthorizedKeys: [...keys, ...deploy] };
}

/** Renders every machine of a stack; pure (same spec and providers → byte-identical files). */
export function renderStack(spec: PlatformSpec, providers: PartsProvider[] = partsProviders()): RenderedStack {
    const { engine, engineOptions } = engineInputs(spec);
    const descriptions: Record<string, string> = { ...WIRING_PLACEHOLDERS };
    for (const p of providers) Object.assign(descriptions, p.placeholders ?? {});
    const files = new Map<string, string>();
    const machines: RenderedMachine[] = [];
    const planMachines: Record<string, unknown>[] = [];
    const used = new Set<string>();
    for (const machine of spec.machines) {
        const ctx: PartsContext = { spec, machine, engine, engineOptions };
        const parts = providers.flatMap((p) => p.parts(ctx));
        const identity = identityOf(spec, machine);
        const script = renderBootstrapScript(identity, parts);
        const userData = renderUserData(identity, script);
        const out: Record<string, string> = { "user-data": userData };
        if (machine.backend === "baremetal") out["bootstrap.sh"] = script;
        // What `pulumi destroy` (or the host leaving its group) runs on a bare-metal host.
        const resetMode = resetModeOf(spec.config.backends, machine.backend);
        if (resetMode !== undefined) out["reset.sh"] = renderResetScript(machine.name, parts, resetMode);
        for (const [name, content] of Object.entries(out)) files.set(`${machine.name}/${name}`, content);
        const names = placeholdersIn(script);
        names.forEach((n) => used.add(n));
        machines.push({ machine, script, userData, parts: ["identity", ...parts.map((p) => p.name)] });
        planMachines.push({
            name: machine.name,
            role: machine.role,
            backend: machine.backend,
            address: machine.address,
            delivery: machine.backend === "baremetal" ? "ssh" : "cloud-init",
            parts: ["identity", ...parts.map((p) => p.name)],
            // Each part's short digest, as a converge's environment shows it in `pulumi preview`
            // (GROUNDWORK_PART_<NAME>): two renders' digests say which parts of a machine changed.
            digests: partDigests(identity, parts),
            files: Object.fromEntries(Object.entries(out).map(([name, content]) => [`${machine.name}/${name}`, `sha256:${sha256(content)}`])),
            placeholders: names,
            joinMaterial: joinMaterialOf(spec, machine),
        });
    }
    const plan = {
        stack: spec.config.name,
        environment: spec.config.environment,
        engine: {
            kind: engine.kind,
            packages: Object.fromEntries(enginePackages(engine)),
            packageSource: engine.packageSource.kind === "mirror" ? engine.packageSource.url : "distribution",
            sandboxImage: sandboxImage(engine, engineOptions.imageRepository),
            criSocket: engineModule(engine.kind).criSocket,
            mirrors: engine.mirrors.map((m) => m.host),
        },
        placeholders: Object.fromEntries([...used].sort().map((n) => [`@@GROUNDWORK:${n}@@`, descriptions[n] ?? "(filled in by the Pulumi program at deploy time)"])),
        // Delivered over SSH into /etc/groundwork/join.env (root only) when the machine joins; listed per machine.
        joinMaterial: spec.config.upTo === "all" ? { path: JOIN_MATERIAL_PATH, delivery: "ssh", values: JOIN_MATERIAL } : undefined,
        machines: planMachines,
    };
    files.set("plan.json", JSON.stringify(plan, null, 2) + "\n");
    // The app matrix's objects as the API server gets them (generated credentials as placeholders).
    const workloads = stackWorkloadObjects(spec);
    if (workloads.length > 0) files.set("workloads.yaml", workloads.map((o) => `---\n${stringify(o, { sortMapEntries: false, lineWidth: 0 })}`).join(""));
    // The CNI groundwork renders itself (no chart), as the program applies it.
    const flannel = stackFlannelManifest(spec);
    if (flannel !== undefined) files.set("flannel.yaml", flannel);
    return { files, machines, plan };
}

/** flannel's manifest when the stack builds a cluster with cni.kind flannel: the objects the program applies, images as nodes pull them. */
export function stackFlannelManifest(spec: PlatformSpec): string | undefined {
    const f = spec.config.upTo === "all" ? nodeClusterSettings(spec).flannel : undefined;
    return f === undefined ? undefined : renderFlannelManifest(f);
}

/**
 * Writes the rendered files under dir (folders as needed; scripts executable), after
 * prepareOut made sure no other render's files stay beside them; the marker listing them last.
 */
export function writeRendered(dir: string, rendered: RenderedStack): void {
    prepareOut(dir);
    const entries = [...rendered.files.entries()].sort(([a], [b]) => a.localeCompare(b));
    for (const [rel, content] of entries) {
        const file = path.join(dir, rel);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, content, { mode: rel.endsWith(".sh") ? 0o755 : 0o644 });
        fs.chmodSync(file, rel.endsWith(".sh") ? 0o755 : 0o644);
    }
    fs.writeFileSync(path.join(dir, RENDER_MARKER), renderMarker(entries.map(([rel]) => rel)), { mode: 0o644 });
}

export async function run(argv: string[]): Promise<number> {
    const { flags, positional } = parseFlags(argv, { ...STACK_FLAGS, out: "string" });
    if (positional.length > 0) throw new UsageError(`unexpected argument "${positional[0]}"; usage: groundwork render --stack NAME|--stack-file FILE --out DIR`);
    const out = flags.out as string | undefined;
    if (out === undefined) throw new UsageError("--out DIR is required (where the machines' user-data and plan.json go)");
    if (fs.existsSync(out) && !fs.statSync(out).isDirectory()) throw new UsageError(`--out: "${out}" exists and is not a folder`);
    const r = specOrExit(flags);
    if (typeof r === "number") return r;
    const rendered = renderStack(r.spec);
    const tooLarge = userDataProblems(r.spec, rendered);
    if (tooLarge.length > 0) return reportProblems({ ...r.stack, problems: tooLarge });
    writeRendered(out, rendered);
    const scripts = [...rendered.files.keys()].filter((k) => k.endsWith("/bootstrap.sh")).length;
    const objects = stackWorkloadObjects(r.spec).length;
    const placeholders = Object.keys((rendered.plan.placeholders as Record<string, string>) ?? {});
    process.stdout.write(
        [
            `rendered ${rendered.machines.length} machine(s) of stack ${r.spec.config.name} into ${out}: ${rendered.machines.length} user-data, ${scripts} bootstrap.sh, plan.json${objects > 0 ? `, workloads.yaml (${objects} objects)` : ""}${rendered.files.has("flannel.yaml") ? ", flannel.yaml" : ""}`,
            `engine: ${r.spec.config.engine.kind}; parts per machine: ${rendered.machines[0]?.parts.join(", ") ?? "none"}`,
            placeholders.length > 0 ? `deploy-time placeholders: ${placeholders.join(", ")}` : "deploy-time placeholders: none",
        ].join("\n") + "\n",
    );
    return EXIT.ok;
}
