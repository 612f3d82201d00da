// The groundwork program: read the stack config once, validate it, build the Platform, export
// its outputs. This is the only place that reads Pulumi config.
import * as pulumi from "@pulumi/pulumi";
import { parsePlatform, PLATFORM_KEY, SECRET_KEYS, SecretName } from "../components/platform/config";
import { Platform } from "../components/platform/platform";

// Pulumi keeps a captured stack trace on every promise it makes (for its leak report); at hundreds
// of machines that is most of the program's time and memory (bench/platform-scale.ts: ×2 time,
// +30 % memory at 1,000 machines). Resource source positions are unaffected (Pulumi lifts the limit
// while it takes them). GROUNDWORK_DEBUG=1 keeps full traces for debugging.
if (!process.env.GROUNDWORK_DEBUG) Error.stackTraceLimit = 0;

const config = new pulumi.Config("groundwork");
const secrets: Partial<Record<SecretName, pulumi.Output<string>>> = {};
for (const [name, key] of Object.entries(SECRET_KEYS) as [SecretName, string][]) {
    const value = config.getSecret(key.slice("groundwork:".length));
    if (value !== undefined) secrets[name] = value;
}

const { spec, problems } = parsePlatform(config.getObject<unknown>(PLATFORM_KEY.slice("groundwork:".length)), new Set(Object.keys(secrets) as SecretName[]));
if (!spec) {
    for (const p of problems) pulumi.log.error(`${p.path}: ${p.message}`);
    // RunError: the engine prints the message alone, never a stack trace; nothing has been registered yet.
    throw new pulumi.RunError(`${PLATFORM_KEY} has ${problems.length} problem${problems.length === 1 ? "" : "s"}; run \`npx groundwork validate --stack ${pulumi.getStack()}\``);
}

const platform = new Platform(spec.config.name, { spec, secrets });

// Stack outputs. Only those the stack has: a layer that is not built exports nothing.
const outputs: Record<string, unknown> = { inventory: platform.inventory, vip: platform.vip };
// The admin kubeconfig is a secret (`pulumi stack output kubeconfig --show-secrets`).
if (platform.kubeconfig) outputs.kubeconfig = platform.kubeconfig;
if (platform.registry) outputs.registry = platform.registry;
// Each control plane's kubeadm certificates and when they expire, read after its last converge.
if (platform.convergence?.certificateExpiry) outputs.certificateExpiry = platform.convergence.certificateExpiry;
export = outputs;
