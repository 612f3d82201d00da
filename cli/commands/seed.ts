import * as fs from "fs";
import { parseFlags, UsageError } from "../args";
import { EXIT, specOrExit, STACK_FLAGS } from "../common";
import { stackBillOfMaterials } from "./bom";
import { registryEndpoint } from "../../components/registry/endpoint";
import { DEFAULT_REGISTRY_USER } from "../../components/registry/render-standalone";
import { seedPlan, splitReference } from "../../components/registry/seed-plan";
import { copyImage } from "../seed/copy";
import { Descriptor, OciLayout } from "../seed/oci-layout";
import { RegistryClient, RegistryError } from "../seed/registry-client";

export const summary = "copy every image of the stack's bill of materials from an OCI archive into the stack's registry, at the paths nodes pull from";

const FLAGS = { ...STACK_FLAGS, from: "strings", ca: "string", user: "string", "password-env": "string", "password-file": "string", connect: "string", "dry-run": "boolean" } as const;
const DEFAULT_PASSWORD_ENV = "GROUNDWORK_REGISTRY_PASSWORD";

const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
const out = (line: string) => process.stdout.write(line + "\n");
const err = (line: string) => process.stderr.write(line + "\n");

/** `addr:port` → parts; throws a UsageError naming the flag. */
function hostPort(text: string): { address: string; port: number } {
    const m = /^(.+):([0-9]{1,5})$/.exec(text);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new UsageError(`--connect: must be ADDRESS:PORT, got "${text}"`);
    return { address: m[1], port: Number(m[2]) };
}

function password(flags: Record<string, string | boolean>, problems: string[]): string {
    const file = flags["password-file"] as string | undefined;
    if (file !== undefined) {
        if (!fs.existsSync(file)) problems.push(`--password-file: ${file}: no such file`);
        else return fs.readFileSync(file, "utf8").trim();
        return "";
    }
    const env = (flags["password-env"] as string | undefined) ?? DEFAULT_PASSWORD_ENV;
    const value = process.env[env];
    if (!value) problems.push(`registry password: set ${env} (or give --password-env VAR / --password-file FILE); it is never taken on the command line`);
    return value ?? "";
}

export async function run(argv: string[]): Promise<number> {
    const { flags, lists } = parseFlags(argv, FLAGS);
    const r = specOrExit(flags);
    if (typeof r === "number") return r;
    const { spec } = r;
    const problems: string[] = [];
    // Several archives (cluster images, application images) are one source: each image from the first that holds it.
    const froms = lists.from ?? [];
    if (froms.length === 0) problems.push("--from: give the OCI archive (tar) or OCI layout folder that holds the images (--from again for more archives)");
    for (const f of froms) if (!fs.existsSync(f)) problems.push(`--from: ${f}: no such file or folder`);
    const from = froms.join(", ");
    const caFile = flags.ca as string | undefined;
    if (caFile !== undefined && !fs.existsSync(caFile)) problems.push(`--ca: ${caFile}: no such file`);
    const pass = flags["dry-run"] ? "" : password(flags, problems);
    const endpoint = registryEndpoint(spec.config.registry, spec.machines, caFile && fs.existsSync(caFile) ? fs.readFileSync(caFile, "utf8") : undefined);
    if (!endpoint) problems.push(`platform.registry.mode: is "none" in stack ${spec.config.name}: there is no registry to seed; use standalone or harbor`);
    if (problems.length > 0 || !endpoint) {
        problems.forEach(err);
        return EXIT.badInput;
    }

    const bom = stackBillOfMaterials(spec);
    const plan = seedPlan(bom.images, endpoint);
    for (const u of plan.unserved) err(`image ${u}: the registry serves no path for it (no mirror for its host); add a mirror or a proxy-cache project`);

    const layouts: OciLayout[] = [];
    for (const f of froms) {
        try {
            layouts.push(OciLayout.open(f));
        } catch (e) {
            err(`--from: ${f}: ${(e as Error).message}`);
            layouts.forEach((l) => l.close());
            return EXIT.badInput;
        }
    }
    /** Image name → the archive that holds it (the first given) and its descriptor. */
    const images = new Map<string, { layout: OciLayout; desc: Descriptor }>();
    for (const layout of layouts) for (const [name, desc] of layout.images) if (!images.has(name)) images.set(name, { layout, desc });
    let client: RegistryClient | undefined;
    try {
        const connect = flags.connect ? hostPort(flags.connect as string) : undefined;
        client = new RegistryClient({
            host: endpoint.host,
            port: endpoint.port,
            connectAddress: connect?.address,
            connectPort: connect?.port,
            caPem: endpoint.caPem,
            username: (flags.user as string | undefined) ?? DEFAULT_REGISTRY_USER,
            password: pass,
        });
        const copies = plan.items.reduce((n, i) => n + i.targets.length, 0);
        out(`seed: stack ${spec.config.name}: ${plan.items.length} images (${copies} paths) → ${endpoint.authority}, from ${from} (${images.size} images in ${layouts.length === 1 ? "the archive" : `${layouts.length} archives`})`);
        const missing = plan.items.filter((i) => !images.has(i.source));
        for (const m of missing) err(`image ${m.source}: not in ${from}; add it to the archive (the nodes will pull it from ${m.targets.map((t) => `${endpoint.authority}/${t}`).join(" and ")})`);
        if (flags["dry-run"]) {
            for (const i of plan.items) out(`  ${i.source} → ${i.targets.map((t) => `${endpoint.authority}/${t}`).join(", ")}${images.has(i.source) ? "" : "  (missing)"}`);
            return missing.length + plan.unserved.length > 0 ? EXIT.badInput : EXIT.ok;
        }
        await client.check();
        const t0 = Date.now();
        const total = { uploaded: 0, bytes: 0, present: 0, unchanged: 0, failed: 0 };
        let n = 0;
        for (const item of plan.items) {
            const found = images.get(item.source);
            if (!found) continue;
            const { layout, desc } = found;
            for (const target of item.targets) {
                n++;
                const { repository, tag } = splitReference(target);
                const t1 = Date.now();
                try {
                    const s = await copyImage(layout, client, desc, repository, tag);
                    total.uploaded += s.uploaded;
                    total.bytes += s.uploadedBytes;
                    total.present += s.present;
                    if (s.unchanged) total.unchanged++;
                    const what = s.unchanged ? "already there" : `${s.uploaded} of ${s.blobs} blobs uploaded (${mib(s.uploadedBytes)}), ${s.present} present`;
                    out(`[${String(n).padStart(String(copies).length)}/${copies}] ${item.source} → ${endpoint.authority}/${target}: ${what}, ${((Date.now() - t1) / 1000).toFixed(1)} s`);
                } catch (e) {
                    total.failed++;
                    err(`image ${item.source} → ${endpoint.authority}/${target}: ${(e as Error).message}`);
                    if (e instanceof RegistryError && (e.status === 401 || e.status === 403)) return EXIT.badInput;
                }
            }
        }
        const bad = missing.length + plan.unserved.length + total.failed;
        out(
            `seed: ${n - total.failed} of ${copies} copies done in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${total.uploaded} blobs uploaded (${mib(total.bytes)}), ${total.present} already present, ${total.unchanged} images unchanged; ${missing.length} missing, ${total.failed} failed${bad > 0 ? " — re-run after fixing them: finished copies are skipped" : ""}`,
        );
        return bad > 0 ? EXIT.badInput : EXIT.ok;
    } catch (e) {
        if (e instanceof RegistryError) {
            err(e.message);
            return e.status === 401 || e.status === 403 ? EXIT.badInput : EXIT.failed;
        }
        throw e;
    } finally {
        client?.close();
        layouts.forEach((l) => l.close());
    }
}
