/**
 * The engine layer in a real Debian 12 guest, shared by test/guest/engine.guest.ts and
 * bench/engine-boot.ts: render the bootstrap with the real renderer (containerd from the
 * air-gapped mirror the host serves, one registry mirror, a throw-away private CA), boot a guest
 * with it as NoCloud user-data, wait for cloud-init, and read the timings from the guest.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { BootstrapIdentity, renderBootstrapScript, renderUserData } from "../../components/engine/bootstrap";
import { EngineConfig, engineConfig } from "../../components/engine/config";
import { engineParts } from "../../components/engine/engines";
import { makeCa } from "../support/pki";
import { bootGuest, CloudInitResult, Guest, MIRROR_GUEST_URL, Mirror, startMirror } from "../support/guest";

/** Registry host the rendered hosts.toml is for, and its (unreachable) mirror endpoint. */
export const MIRRORED_HOST = "registry.groundwork.test:5000";
export const MIRROR_ENDPOINT = "https://mirror.groundwork.test";
export const ENGINE_PACKAGES = ["containerd", "runc"];

/** A throw-away CA made with openssl in dir; returns its PEM. */
export function throwAwayCa(dir: string): string {
    return makeCa(dir, "groundwork engine test CA").pem;
}

/** The engine config under test: the air-gap path (mirror package source), one registry mirror, the CA. */
export function guestEngineConfig(caPem: string): EngineConfig {
    return engineConfig.parse({
        kind: "containerd",
        packageSource: { kind: "mirror", url: MIRROR_GUEST_URL, trusted: true },
        mirrors: [{ host: MIRRORED_HOST, endpoints: [MIRROR_ENDPOINT] }],
        caCertificates: [caPem],
    });
}

export interface EngineBoot {
    guest: Guest;
    config: EngineConfig;
    script: string;
    userData: string;
    cloudInit: CloudInitResult;
    /** Seconds after kernel start (guest monotonic clock) when cloud-final and containerd became active. */
    guestClock: { cloudFinalSec: number; engineActiveSec: number };
}

/** A throw-away SSH public key made with ssh-keygen in dir: the login user's authorized key. */
export function throwAwaySshKey(dir: string): string {
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "groundwork-engine-test", "-f", path.join(dir, "id_ed25519")], { stdio: ["ignore", "ignore", "pipe"] });
    return fs.readFileSync(path.join(dir, "id_ed25519.pub"), "utf8").trim();
}

export function identityFor(name: string, sshPublicKey: string): BootstrapIdentity {
    return { hostname: name, sshUser: "groundwork", sshAuthorizedKeys: [sshPublicKey] };
}

/** Starts the mirror holding the engine's packages (built once, then cached). */
export function engineMirror(): Promise<Mirror> {
    return startMirror(ENGINE_PACKAGES);
}

/** Renders, boots and waits for cloud-init; the guest is stopped before any rejection. */
export async function bootEngineGuest(name: string, mirror: Mirror, caPem: string, sshPublicKey: string): Promise<EngineBoot> {
    const config = guestEngineConfig(caPem);
    const identity = identityFor(name, sshPublicKey);
    const script = renderBootstrapScript(identity, engineParts(config));
    const userData = renderUserData(identity, script);
    const guest = await bootGuest({ name, userData, mirrorPort: mirror.port, timeoutSec: 1200 });
    try {
        const cloudInit = await guest.waitCloudInit();
        const r = await guest.ssh("systemctl show -p ActiveEnterTimestampMonotonic --value cloud-final.service containerd.service");
        const [final, engine] = r.stdout.split("\n").filter((l) => l.trim() !== "").map((v) => Math.round(Number(v) / 1e5) / 10);
        return { guest, config, script, userData, cloudInit, guestClock: { cloudFinalSec: final, engineActiveSec: engine } };
    } catch (e) {
        await guest.stop();
        throw e;
    }
}

export { sshOk } from "../support/guest";
