/**
 * Real guest: a Debian 12 image without any container engine boots the engine layer's rendered
 * user-data and installs containerd from the air-gapped mirror the host serves (the guest reaches
 * nothing else). Asserted over SSH: containerd is active at the pinned version, runs a container
 * from a tiny image imported from a local tarball, hosts.toml and the CA are where the renderer
 * put them, and running the bootstrap again (as cloud-init wrote it, and as bare metal gets it
 * over SSH) changes nothing.
 */
import * as assert from "assert";
import { createHash } from "crypto";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { BOOTSTRAP_PATH } from "../../components/engine/bootstrap";
import { enginePackages, engineParts } from "../../components/engine/engines";
import { caFileName, CA_DIR } from "../../components/engine/render-host";
import { CONVERGE_COMMAND } from "../../components/machines/converge";
import { bootEngineGuest, EngineBoot, engineMirror, MIRRORED_HOST, sshOk, throwAwayCa, throwAwaySshKey } from "../engine/guest-scenario";
import { ensureBaseImage, Mirror } from "../support/guest";

const REPO = path.resolve(__dirname, "../..");
const IMAGE = "docker.io/groundwork/tiny:1.0";
const t0 = Date.now();
const note = (msg: string) => process.stderr.write(`[engine.guest +${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}\n`);

/** Every file the bootstrap manages (content, mtime, mode), the packages, holds and containerd's start: what a second run must not change. */
const STATE = [
    "set -e",
    "paths='/etc/containerd /etc/apt/sources.list.d /etc/apt/apt.conf.d /etc/sysctl.d /etc/modules-load.d /etc/sudoers.d /usr/local/share/ca-certificates /etc/ssl/certs/ca-certificates.crt /etc/fstab /home/groundwork'",
    "find $paths -type f -printf '%p %T@ %m\\n' | sort",
    "find $paths -type f -exec sha256sum {} + | sort",
    'dpkg-query -W -f="\\${Package}=\\${Version} \\${Status}\\n"',
    "apt-mark showhold",
    "systemctl show -p MainPID -p ActiveEnterTimestampMonotonic containerd",
].join("\n");

describe("engine layer in a real Debian 12 guest (air-gapped install from the host's mirror)", function () {
    this.timeout(3600_000);
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "gw-engine-guest-"));
    let mirror: Mirror | undefined;
    let boot: EngineBoot | undefined;
    let caPem = "";
    let sshKey = "";

    before(async () => {
        let t = Date.now();
        const image = await ensureBaseImage();
        note(`base image ready in ${((Date.now() - t) / 1000).toFixed(1)}s: ${image}`);
        const packages = fs.readFileSync(path.join(image, "packages.txt"), "utf8");
        assert.doesNotMatch(packages, /^(containerd|runc|docker\.io) /m, "the base image must not contain the engine");
        t = Date.now();
        mirror = await engineMirror();
        note(`mirror on 127.0.0.1:${mirror.port}: ${mirror.packageCount} packages, ${mirror.sizeMiB} MiB (${((Date.now() - t) / 1000).toFixed(1)}s)`);
        caPem = throwAwayCa(work);
        sshKey = throwAwaySshKey(work);
        boot = await bootEngineGuest("gw-engine", mirror, caPem, sshKey);
        const g = boot.guest;
        note(`accel=${g.accel}; SSH up ${g.timings.sshUpSec}s, cloud-init ${boot.cloudInit.status} at ${boot.cloudInit.seconds}s after qemu start; guest clock: cloud-final ${boot.guestClock.cloudFinalSec}s, containerd active ${boot.guestClock.engineActiveSec}s`);
    });

    after(async () => {
        await boot?.guest.stop();
        await mirror?.stop();
        fs.rmSync(work, { recursive: true, force: true });
    });

    it("boots a guest whose accelerator was detected, not assumed, and finishes cloud-init without errors", async () => {
        assert.ok(["tcg", "kvm"].includes(boot!.guest.accel), `accel ${boot!.guest.accel}`);
        assert.strictEqual(boot!.cloudInit.status, "done", boot!.cloudInit.output);
        const log = await sshOk(boot!.guest, "sudo cat /var/log/cloud-init-output.log");
        assert.match(log, /\[groundwork\] \+\d+s engine\/packages: installing containerd=1\.6\.20~ds1-1\+deb12u3 runc=1\.1\.5\+ds1-1\+deb12u1 from http:\/\/10\.0\.2\.100\//);
        assert.match(log, /\[groundwork\] \+\d+s bootstrap of gw-engine done: [1-9]\d* change\(s\)/);
        // An emulated guest keeps its clock on the TSC (boot.sh's kernel arguments), not on the HPET the
        // kernel would fall back to: without them this file says "hpet".
        if (boot!.guest.accel === "tcg") assert.strictEqual((await sshOk(boot!.guest, "cat /sys/devices/system/clocksource/clocksource0/current_clocksource")).trim(), "tsc");
    });

    it("installs the pinned packages from the mirror and holds them; containerd is active", async () => {
        const g = boot!.guest;
        assert.strictEqual((await sshOk(g, "systemctl is-active containerd")).trim(), "active");
        for (const [name, version] of enginePackages(boot!.config)) {
            assert.strictEqual((await sshOk(g, `dpkg-query -W -f='\${Version}' ${name}`)).trim(), version);
        }
        assert.deepStrictEqual((await sshOk(g, "apt-mark showhold")).trim().split("\n").sort(), ["containerd", "runc"]);
        assert.match(await sshOk(g, "cat /etc/apt/sources.list.d/groundwork-engine.list"), /^deb \[trusted=yes\] http:\/\/10\.0\.2\.100\/ bookworm main$/m);
        // containerd runs with the rendered config: systemd cgroups and certs.d.
        const cfg = await sshOk(g, "sudo containerd config dump");
        assert.match(cfg, /SystemdCgroup = true/);
        assert.match(cfg, /config_path = "\/etc\/containerd\/certs.d"/);
    });

    it("runs a container from a tiny image imported from a local tarball", async () => {
        const g = boot!.guest;
        const tarball = path.join(work, "tiny.tar");
        execFileSync(path.join(REPO, "tools/guest/tiny-image.sh"), [tarball, "groundwork/tiny:1.0"], { stdio: ["ignore", "ignore", "pipe"] });
        await g.put(tarball, "/tmp/tiny.tar");
        await sshOk(g, "sudo ctr -n k8s.io images import /tmp/tiny.tar");
        const t = Date.now();
        const out = await sshOk(g, `sudo ctr -n k8s.io run --rm ${IMAGE} tiny-1`);
        note(`container ran in ${((Date.now() - t) / 1000).toFixed(1)}s`);
        assert.strictEqual(out.trim(), "hello");
    });

    it("puts hosts.toml, the CA and the kernel settings exactly where (and as) the renderer did", async () => {
        const g = boot!.guest;
        const files = engineParts(boot!.config).flatMap((p) => p.files);
        const hostsToml = files.find((f) => f.path === `/etc/containerd/certs.d/${MIRRORED_HOST}/hosts.toml`)!;
        assert.ok(hostsToml, "the renderer wrote a hosts.toml for the mirrored host");
        assert.strictEqual(await sshOk(g, `sudo cat '${hostsToml.path}'`), hostsToml.content);
        // The CA is written once, into the OS trust store; hosts.toml names that file (no per-host copy).
        assert.ok(hostsToml.content.includes(`ca = "${CA_DIR}/${caFileName(caPem)}"`), hostsToml.content);
        assert.strictEqual((await sshOk(g, `test -e '/etc/containerd/certs.d/${MIRRORED_HOST}/ca.crt' && echo copy || echo none`)).trim(), "none");
        assert.strictEqual(await sshOk(g, `cat '${CA_DIR}/${caFileName(caPem)}'`), caPem.trim() + "\n");
        // In the OS trust store: the bundle holds the CA, and openssl trusts it without being told where.
        const body = caPem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
        const bundle = (await sshOk(g, "cat /etc/ssl/certs/ca-certificates.crt")).replace(/\s+/g, "");
        assert.ok(bundle.includes(body), "CA is in /etc/ssl/certs/ca-certificates.crt");
        assert.match(await sshOk(g, "cat > /tmp/ca.pem && openssl verify /tmp/ca.pem", { input: caPem }), /^\/tmp\/ca\.pem: OK$/m);
        assert.strictEqual((await sshOk(g, "sudo sysctl -n net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables")).trim(), "1\n1");
        assert.match(await sshOk(g, "cat /proc/modules"), /^br_netfilter /m);
        assert.strictEqual((await sshOk(g, "sudo swapon --noheadings --show=NAME")).trim(), "");
        assert.strictEqual((await sshOk(g, "getent passwd groundwork | cut -d: -f7")).trim(), "/bin/bash", "the login user exists");
        assert.strictEqual(await sshOk(g, "sudo cat /home/groundwork/.ssh/authorized_keys"), `${sshKey}\n`);
        assert.strictEqual((await sshOk(g, "sudo stat -c '%U %a' /home/groundwork/.ssh /home/groundwork/.ssh/authorized_keys")).trim(), "groundwork 700\ngroundwork 600");
    });

    it("changes nothing when the bootstrap runs again: as cloud-init wrote it, and through the program's converge over SSH", async () => {
        const g = boot!.guest;
        const before = await sshOk(g, "sudo bash -s", { input: STATE });
        const again = await g.ssh(`sudo ${BOOTSTRAP_PATH}`);
        assert.strictEqual(again.code, 0, again.stderr);
        assert.match(again.stdout, /bootstrap of gw-engine done: 0 change\(s\)/);
        assert.match(again.stdout, /engine\/packages: all 2 packages at their pinned versions/);
        // The program's converge over SSH: the same script is found applied (cloud-init's run recorded it).
        const overSsh = await g.ssh(CONVERGE_COMMAND, { input: boot!.script });
        assert.strictEqual(overSsh.code, 0, overSsh.stderr);
        assert.match(overSsh.stdout, /waiting for the first boot \(cloud-init\) to finish/);
        assert.match(overSsh.stdout, new RegExp(`bootstrap ${createHash("sha256").update(boot!.script).digest("hex").slice(0, 12)} is applied; nothing to converge`));
        // A changed script (one more line) converges: installed in cloud-init's place and run; nothing else changes on the machine.
        const changed = `${boot!.script}# day 2\n`;
        const day2 = await g.ssh(CONVERGE_COMMAND, { input: changed });
        assert.strictEqual(day2.code, 0, day2.stderr);
        assert.match(day2.stdout, /converging to bootstrap/);
        assert.match(day2.stdout, /bootstrap of gw-engine done: 0 change\(s\)/);
        assert.strictEqual(await sshOk(g, `sudo cat ${BOOTSTRAP_PATH}`), changed);
        assert.strictEqual((await sshOk(g, "sudo cat /var/lib/groundwork/bootstrap.applied")).trim(), createHash("sha256").update(changed).digest("hex"));
        const after = await sshOk(g, "sudo bash -s", { input: STATE });
        assert.strictEqual(after, before);
    });
});
