/**
 * Debian packages as image layers: apt computes the closure (what installing the packages into an
 * empty root would bring), `apt-get download` keeps the .debs in a cache folder, the alternatives
 * the maintainer scripts would register are made as plain symlinks, and the dynamic loader of
 * the folder itself proves that every program and library finds its libraries inside it.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** A package at an exact version, as `apt-get download name=version` takes it. */
export interface DebPin {
    name: string;
    version: string;
}

const APT_USER = ["-o", "APT::Sandbox::User=root"];

/**
 * For each set of packages, what `apt-get install <set>` would install into a root with no
 * packages: the set and every Depends/Pre-Depends (alternatives and virtual packages resolved by
 * apt itself), at the versions the host's package lists offer. Each result sorted by name. Sets
 * share one state folder.
 */
export function debClosures(sets: string[][]): DebPin[][] {
    if (sets.length === 0) return [];
    if (!fs.readdirSync("/var/lib/apt/lists").some((f) => f.includes("_Packages"))) execFileSync("apt-get", ["update", "-qq"], { stdio: "ignore" });
    const state = fs.mkdtempSync(path.join(os.tmpdir(), "gw-apt-"));
    try {
        fs.mkdirSync(path.join(state, "cache", "archives", "partial"), { recursive: true });
        fs.writeFileSync(path.join(state, "status"), "");
        fs.writeFileSync(path.join(state, "extended_states"), "");
        const opt = (k: string, v: string) => ["-o", `${k}=${v}`];
        const opts = [
            ...opt("Dir::State::status", path.join(state, "status")),
            ...opt("Dir::State::extended_states", path.join(state, "extended_states")),
            ...opt("Dir::Cache", path.join(state, "cache")),
            // No binary caches: written per call they cost more than they save.
            ...opt("Dir::Cache::pkgcache", ""),
            ...opt("Dir::Cache::srcpkgcache", ""),
            ...opt("APT::Install-Recommends", "false"),
            ...opt("Debug::NoLocking", "1"),
            ...APT_USER,
        ];
        return sets.map((packages) => {
            let plan: string;
            try {
                plan = execFileSync("apt-get", [...opts, "-s", "install", ...packages], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
            } catch (e) {
                throw new Error(`apt cannot resolve ${packages.join(" ")}: ${String((e as { stderr?: string }).stderr ?? e).trim()}`);
            }
            // `Inst libc6 (2.36-9+deb12u14 Debian:12.13/stable [amd64])`
            const pins = [...plan.matchAll(/^Inst (\S+) (?:\[\S+\] )?\((\S+) /gm)].map((m) => ({ name: m[1], version: m[2] }));
            for (const p of packages) if (!pins.some((x) => x.name === p)) throw new Error(`apt's plan for ${packages.join(" ")} lacks ${p}:\n${plan}`);
            return pins.sort((a, b) => a.name.localeCompare(b.name));
        });
    } finally {
        fs.rmSync(state, { recursive: true, force: true });
    }
}

/**
 * debClosures, remembered in `memoFile` while the host's package lists and apt preferences are
 * the files they were (name, size, time): apt answers the same for the same lists, and asking it
 * costs seconds per set.
 */
export function debClosuresMemo(sets: string[][], memoFile: string): DebPin[][] {
    const stamp = (dir: string, keep: (f: string) => boolean) => {
        if (!fs.existsSync(dir)) return [];
        return fs.readdirSync(dir).filter(keep).sort().map((f) => {
            const st = fs.statSync(path.join(dir, f));
            return `${f}:${st.size}:${st.mtimeMs}`;
        });
    };
    const key = JSON.stringify({ sets, lists: stamp("/var/lib/apt/lists", (f) => f.includes("_Packages") || f.endsWith("Release")), prefs: [...stamp("/etc/apt", (f) => f === "preferences"), ...stamp("/etc/apt/preferences.d", () => true)] });
    try {
        const memo = JSON.parse(fs.readFileSync(memoFile, "utf8")) as { key: string; closures: DebPin[][] };
        if (memo.key === key) return memo.closures;
    } catch {
        // no memo yet, or an unreadable one: ask apt
    }
    const closures = debClosures(sets);
    fs.mkdirSync(path.dirname(memoFile), { recursive: true });
    fs.writeFileSync(`${memoFile}.${process.pid}`, JSON.stringify({ key, closures }));
    fs.renameSync(`${memoFile}.${process.pid}`, memoFile);
    return closures;
}

/** The file `apt-get download` writes for a pin (`:` of an epoch becomes `%3a`). */
function debFile(dir: string, p: DebPin): string | undefined {
    const prefix = `${p.name}_${p.version.replace(/:/g, "%3a")}_`;
    const hit = fs.existsSync(dir) ? fs.readdirSync(dir).find((f) => f.startsWith(prefix) && f.endsWith(".deb")) : undefined;
    return hit === undefined ? undefined : path.join(dir, hit);
}

/** The .deb of every pin, downloaded into `dir` once; returns their paths in the pins' order. */
export function downloadDebs(pins: DebPin[], dir: string): string[] {
    fs.mkdirSync(dir, { recursive: true });
    const missing = pins.filter((p) => debFile(dir, p) === undefined);
    if (missing.length > 0) {
        try {
            execFileSync("apt-get", ["-q", ...APT_USER, "download", ...missing.map((p) => `${p.name}=${p.version}`)], { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
        } catch (e) {
            throw new Error(`apt-get download ${missing.map((p) => `${p.name}=${p.version}`).join(" ")} failed: ${String((e as { stderr?: Buffer }).stderr ?? e).trim()}`);
        }
    }
    return pins.map((p) => debFile(dir, p) ?? fail(`apt-get download left no .deb for ${p.name}=${p.version} in ${dir}`));
}

function fail(message: string): never {
    throw new Error(message);
}

/**
 * The symlinks `update-alternatives --install` in the packages' postinst scripts would make, with
 * the highest priority winning as dpkg's automatic mode does — on Debian 12, the nf_tables
 * iptables (priority 20) over the legacy one (10). Links point at the chosen path directly (no
 * /etc/alternatives). Returns link → target.
 */
export function applyAlternatives(root: string, debs: string[]): Record<string, string> {
    const best = new Map<string, { priority: number; links: [string, string][] }>();
    for (const deb of debs) {
        const ctl = fs.mkdtempSync(path.join(os.tmpdir(), "gw-debctl-"));
        try {
            execFileSync("dpkg-deb", ["-e", deb, ctl]);
            const postinst = path.join(ctl, "postinst");
            if (!fs.existsSync(postinst)) continue;
            const script = fs.readFileSync(postinst, "utf8").replace(/\\\n/g, " ");
            for (const m of script.matchAll(/update-alternatives\s+--install\s+(\S+)\s+(\S+)\s+(\S+)\s+(\d+)((?:\s+--slave\s+\S+\s+\S+\s+\S+)*)/g)) {
                const [, link, name, target, priority, slaves] = m;
                const links: [string, string][] = [[link, target], ...[...slaves.matchAll(/--slave\s+(\S+)\s+\S+\s+(\S+)/g)].map((s): [string, string] => [s[1], s[2]])];
                const prev = best.get(name);
                if (!prev || Number(priority) > prev.priority) best.set(name, { priority: Number(priority), links });
            }
        } finally {
            fs.rmSync(ctl, { recursive: true, force: true });
        }
    }
    const made: Record<string, string> = {};
    for (const { links } of [...best.values()]) {
        for (const [link, target] of links) {
            const at = path.join(root, link);
            if (!fs.existsSync(path.join(root, target))) throw new Error(`alternative ${link} → ${target}: ${target} is not in the unpacked packages`);
            fs.mkdirSync(path.dirname(at), { recursive: true });
            fs.rmSync(at, { force: true });
            fs.symlinkSync(path.relative(path.dirname(link), target), at);
            made[link] = target;
        }
    }
    return made;
}

/** Every ELF file (programs, libraries, xtables extensions) under a folder; symlinks not followed. */
function elfFiles(root: string): string[] {
    const out: string[] = [];
    const walk = (dir: string) => {
        for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
            const p = path.join(dir, e.name);
            if (e.isDirectory()) walk(p);
            else if (e.isFile()) {
                const fd = fs.openSync(p, "r");
                const magic = Buffer.alloc(4);
                fs.readSync(fd, magic, 0, 4, 0);
                fs.closeSync(fd);
                if (magic.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))) out.push(p);
            }
        }
    };
    walk(root);
    return out.sort();
}

/**
 * Asks the folder's own dynamic loader (`ld.so --list`, what ldd runs) to resolve every ELF
 * file's libraries with only the folder's library paths: a library it finds outside the folder
 * (on this host) or not at all is a package missing from the closure. No root or chroot needed.
 */
export function checkLinkage(root: string): void {
    const loader = path.join(root, "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
    if (!fs.existsSync(loader)) throw new Error(`${root} has no dynamic loader (libc6 missing from the packages)`);
    const libPath = ["lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu"].map((d) => path.join(root, d)).join(":");
    const problems: string[] = [];
    for (const file of elfFiles(root)) {
        if (file === fs.realpathSync(loader)) continue;
        let listing: string;
        try {
            listing = execFileSync(loader, ["--library-path", libPath, "--list", file], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
        } catch (e) {
            const err = String((e as { stderr?: string }).stderr ?? "") + String((e as { stdout?: string }).stdout ?? "");
            // Static programs (busybox) and objects without a dynamic section have nothing to resolve.
            if (/not a dynamic executable|statically linked/.test(err)) continue;
            problems.push(`${path.relative(root, file)}: ${err.trim()}`);
            continue;
        }
        for (const m of listing.matchAll(/^\s*(\S+) => (.*?)(?: \(0x[0-9a-f]+\))?$/gm)) {
            if (!m[2].startsWith(root + "/")) problems.push(`${path.relative(root, file)} needs ${m[1]}: ${m[2] === "not found" ? "not found" : `found only outside the image, at ${m[2]}`}`);
        }
    }
    if (problems.length > 0) throw new Error(`libraries missing from the image's packages:\n  ${problems.join("\n  ")}`);
}
