import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { UsageError, parseFlags } from "../args";
import { prepareOut, RENDER_MARKER, renderMarker } from "../render-out";
import { EXIT, specOrExit, STACK_FLAGS } from "../common";
import { BootstrapIdentity, BootstrapPart, placeholder, placeholdersIn, renderBootstrapScript, renderUserData } from "../../components/engine/bootstrap";
import { EngineConfig } from "../../components/engine/config";
import { EngineOptions, engineModule, engineParts, enginePackages } from "../../components/engine/engines";
import { sandboxImage } from "../../components/engine/render-containerd";
import { MachineSpec, PlatformSpec } from "../../components/platform/config";
import { clusterParts, firstControlPlane } from "../../components/cluster";
import { nodeClusterSettings, nodeEngine, nodeRegistry } from "../../components/platform/wiring";
import { DEFAULT_REGISTRY_USER, STANDALONE_PLACEHOLDERS, standaloneRenderParts } from "../../components/registry/render-standalone";

export const summary = "write every machine's bootstrap (cloud-init user-data, bare-metal script) and plan.json to --out DIR";

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
    const endpoint = nodeRegistry(spec, placeholder("registry-ca"));
    const auth = endpoint?.mode === "standalone" ? { authority: endpoint.authority, username: DEFAULT_REGISTRY_USER, password: placeholder("registry-password") } : undefined;
    return nodeEngine(spec, endpoint ? { caPem: endpoint.caPem, auth } : undefined);
}

export const ENGINE_PROVIDER: PartsProvider = {
    layer: "engine",
    // The standalone registry machine gets the registry layer's parts instead (they install its package).
    parts: ({ machine, engine, engineOptions }) => (machine.role === "registry" ? [] : engineParts(engine, engineOptions)),
};

/** What the cluster layer's secrets look like before deploy: @pulumi/random and @pulumi/tls make them. */
const CLUSTER_PLACEHOLDERS: Record<string, string> = {
    "bootstrap-token": "kubeadm bootstrap token [a-z0-9]{6}.[a-z0-9]{16} (random.RandomString, a Pulumi secret)",
    "certificate-key": "kubeadm certificate key for control-plane join (random.RandomId, a Pulumi secret)",
    "cluster-ca": "PEM of the cluster CA (tls.SelfSignedCert)",
    "cluster-ca-key": "PEM of the cluster CA's private key, control planes only (a Pulumi secret)",
    "cluster-ca-hash": "sha256 of the cluster CA's public key, for kubeadm discovery",
};

export const CLUSTER_PROVIDER: PartsProvider = {
    layer: "cluster",
    placeholders: CLUSTER_PLACEHOLDERS,
    parts: ({ spec, machine }) => {
        const c = spec.config;
        if (c.upTo !== "all" || (machine.role !== "control-plane" && machine.role !== "worker")) return [];
        const settings = nodeClusterSettings(spec);
        const secrets = {
            bootstrapToken: placeholder("bootstrap-token"),
            certificateKey: placeholder("certificate-key"),
            caCertPem: placeholder("cluster-ca"),
            caKeyPem: placeholder("cluster-ca-key"),
            caCertHash: placeholder("cluster-ca-hash"),
        };
        return clusterParts(settings, machine, firstControlPlane(spec.machines)!.name, secrets);
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
    return { hostname: m.name, sshUser: spec.config.machines.sshUser, sshAuthorizedKeys: spec.config.machines.sshAuthorizedKeys };
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
            files: Object.fromEntries(Object.entries(out).map(([name, content]) => [`${machine.name}/${name}`, `sha256:${sha256(content)}`])),
            placeholders: names,
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
        machines: planMachines,
    };
    files.set("plan.json", JSON.stringify(plan, null, 2) + "\n");
    return { files, machines, plan };
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
    writeRendered(out, rendered);
    const scripts = [...rendered.files.keys()].filter((k) => k.endsWith("/bootstrap.sh")).length;
    const placeholders = Object.keys((rendered.plan.placeholders as Record<string, string>) ?? {});
    process.stdout.write(
        [
            `rendered ${rendered.machines.length} machine(s) of stack ${r.spec.config.name} into ${out}: ${rendered.machines.length} user-data, ${scripts} bootstrap.sh, plan.json`,
            `engine: ${r.spec.config.engine.kind}; parts per machine: ${rendered.machines[0]?.parts.join(", ") ?? "none"}`,
            placeholders.length > 0 ? `deploy-time placeholders: ${placeholders.join(", ")}` : "deploy-time placeholders: none",
        ].join("\n") + "\n",
    );
    return EXIT.ok;
}
