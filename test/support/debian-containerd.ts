import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DEFAULT_ENGINE_PACKAGES } from "../../components/engine/config";

const CACHE = process.env.GROUNDWORK_CACHE ?? path.join(os.homedir(), ".cache", "groundwork");

/**
 * Debian's containerd at exactly the version nodes install (DEFAULT_ENGINE_PACKAGES), unpacked
 * (never installed) under $GROUNDWORK_CACHE/engine/containerd-<version>/: the oracle for what
 * containerd makes of the configuration we render. Returns the folder holding `containerd`.
 */
export function ensureDebianContainerd(): { binDir: string; version: string } {
    const version = DEFAULT_ENGINE_PACKAGES.containerd.containerd;
    const dir = path.join(CACHE, "engine", `containerd-${version.replace(/[^A-Za-z0-9.+-]/g, "_")}`);
    const binDir = path.join(dir, "root", "usr", "bin");
    if (fs.existsSync(path.join(binDir, "containerd"))) return { binDir, version };
    fs.mkdirSync(dir, { recursive: true });
    const download = () => execFileSync("apt-get", ["download", "-qq", `containerd=${version}`], { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
    try {
        download();
    } catch {
        execFileSync("apt-get", ["update", "-qq"], { stdio: ["ignore", "ignore", "pipe"] });
        download();
    }
    const deb = fs.readdirSync(dir).find((f) => f.startsWith("containerd_") && f.endsWith(".deb"));
    if (!deb) throw new Error(`apt-get download containerd=${version} left no .deb in ${dir}`);
    execFileSync("dpkg-deb", ["-x", path.join(dir, deb), path.join(dir, "root.tmp")]);
    fs.renameSync(path.join(dir, "root.tmp"), path.join(dir, "root"));
    fs.rmSync(path.join(dir, deb));
    return { binDir, version };
}
