/**
 * What the real-engine tests of remote commands share: an sshd of this test's own (keys, config,
 * readiness) and the Pulumi project folder a tiny program runs from.
 */
import * as assert from "assert";
import { ChildProcess } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { REPO, sh } from "./sh";

/** A host key, a client key and an authorized_keys holding the client's, in dir. */
export function sshKeys(dir: string): { hostKey: string; clientKey: string; authorizedKeys: string } {
    const keys = sh(`ssh-keygen -q -t ed25519 -N '' -f '${dir}/host' && ssh-keygen -q -t ed25519 -N '' -f '${dir}/client' && cp '${dir}/client.pub' '${dir}/authorized_keys'`);
    assert.strictEqual(keys.code, 0, keys.stderr);
    return { hostKey: path.join(dir, "host"), clientKey: path.join(dir, "client"), authorizedKeys: path.join(dir, "authorized_keys") };
}

/** An sshd_config in dir listening on `listen` (address:port), key logins only, root allowed; checked by `sshd -t`. */
export function sshdConfig(dir: string, name: string, listen: string[], extra: string[] = []): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, [
        ...listen.map((l) => `ListenAddress ${l}`), `HostKey ${dir}/host`, `AuthorizedKeysFile ${dir}/authorized_keys`,
        "PidFile none", "StrictModes no", "UsePAM no", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
        "PermitRootLogin prohibit-password", ...extra, "",
    ].join("\n"));
    fs.mkdirSync("/run/sshd", { recursive: true }); // sshd's privilege separation directory (`sshd -t` checks it)
    const check = sh(`/usr/sbin/sshd -t -f '${file}'`);
    assert.strictEqual(check.code, 0, check.stderr);
    return file;
}

/** Resolves once host:port accepts a connection; fails if the child exits first or after `seconds`. */
export async function waitForPort(port: number, child: ChildProcess, seconds: number, host = "127.0.0.1"): Promise<void> {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
        if (child.exitCode !== null) throw new Error(`sshd exited with ${child.exitCode} before listening`);
        const ok = await new Promise<boolean>((resolve) => {
            const s = net.connect(port, host, () => {
                s.destroy();
                resolve(true);
            });
            s.once("error", () => resolve(false));
        });
        if (ok) return;
        if (Date.now() > deadline) throw new Error(`sshd did not listen on ${host}:${port} within ${seconds}s`);
        await new Promise((r) => setTimeout(r, 200));
    }
}

/** A Pulumi project in dir running `source` (TypeScript) with the repository's node_modules. */
export function pulumiProject(dir: string, name: string, source: string): void {
    fs.writeFileSync(path.join(dir, "index.ts"), source);
    fs.symlinkSync(path.join(REPO, "node_modules"), path.join(dir, "node_modules"));
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name, main: "index.ts" }));
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `name: ${name}\nruntime:\n  name: nodejs\n  options:\n    typescript: true\n`);
}

/** After a real-engine SSH test: destroy the stack (its delete commands need the sshd), stop the sshd by PID, remove the folder, print the timings. */
export function tearDown(work: string | undefined, sshd: ChildProcess | undefined, destroy: () => void, timings: Record<string, number>): void {
    if (work) destroy();
    if (sshd?.pid !== undefined && sshd.exitCode === null) process.kill(sshd.pid, "SIGTERM");
    if (work) fs.rmSync(work, { recursive: true, force: true });
    process.stdout.write(`      timings (s): ${JSON.stringify(timings)}\n`);
}
