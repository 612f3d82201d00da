/**
 * The reset a bare-metal host runs when it leaves the platform (`reset.sh` of `groundwork render`),
 * checked by shellcheck and run by bash as root in a private mount namespace: /etc, /var/lib,
 * /usr/local and /run are scratch folders holding every file the host's bootstrap writes (and
 * files of the operator's that must stay); kubeadm, systemctl, update-ca-certificates, dpkg-query,
 * apt-mark and apt-get are stand-ins that log their calls (kubeadm's `reset` removes what the real
 * one does).
 */
import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { renderStack } from "../../cli/commands/render";
import { loadStackFile } from "../../cli/stackfile";
import { writeStackFile } from "../support/cli";

const STACK = path.resolve(__dirname, "../guest/stacks/Pulumi.guest-cluster.yaml");
const BOUND = ["/etc", "/var/lib", "/usr/local", "/run"];
/** Files of the operator's (or Debian's) that a reset must leave alone. */
const KEEP = ["/etc/apt/sources.list.d/debian.sources", "/etc/containerd/certs.d/other.example/hosts.toml", "/usr/local/share/ca-certificates/site-root.crt", "/etc/sudoers.d/90-groundwork-debian", "/var/lib/docker-registry/docker/registry/v2/blobs/x"];

const STANDINS: Record<string, string> = {
    kubeadm: `echo "kubeadm $*" >> "$GW_LOG"\nif [[ $1 == reset ]]; then rm -rf /etc/kubernetes/kubelet.conf /etc/kubernetes/admin.conf /etc/kubernetes/pki /etc/kubernetes/manifests/*; fi`,
    // Units in $GW_UNITS (one per line) are enabled and active until disabled.
    systemctl: `echo "systemctl $*" >> "$GW_LOG"\ncase $1 in\n  is-enabled|is-active) unit=\${@: -1}; grep -qx "$unit" "$GW_UNITS" ;;\n  disable) unit=\${@: -1}; sed -i "/^$unit\\$/d" "$GW_UNITS" ;;\n  *) exit 0 ;;\nesac`,
    "update-ca-certificates": `echo "update-ca-certificates $*" >> "$GW_LOG"`,
    "dpkg-query": `pkg=\${@: -1}; if grep -qx "$pkg" "$GW_PKGS"; then echo -n 'install ok installed'; else exit 1; fi`,
    "apt-mark": `echo "apt-mark $*" >> "$GW_LOG"`,
    "apt-get": `echo "apt-get $*" >> "$GW_LOG"\nif [[ " $* " == *" purge "* ]]; then for p in "$@"; do sed -i "/^$p\\$/d" "$GW_PKGS"; done; fi`,
};

interface Sandbox {
    dir: string;
    /** Runs the script as root in the sandbox; returns its output and the stand-ins' log since the last run. */
    run(script: string): { output: string; calls: string[] };
    exists(p: string): boolean;
}

function sandbox(files: string[], units: string[], packages: string[]): Sandbox {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gw-reset-"));
    for (const b of BOUND) fs.mkdirSync(path.join(dir, "root", b), { recursive: true });
    for (const f of files) {
        fs.mkdirSync(path.dirname(path.join(dir, "root", f)), { recursive: true });
        fs.writeFileSync(path.join(dir, "root", f), `content of ${f}\n`);
    }
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    for (const [name, body] of Object.entries(STANDINS)) fs.writeFileSync(path.join(bin, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
    fs.writeFileSync(path.join(dir, "units"), units.map((u) => `${u}\n`).join(""));
    fs.writeFileSync(path.join(dir, "pkgs"), packages.map((p) => `${p}\n`).join(""));
    const log = path.join(dir, "calls.log");
    let seen = 0;
    return {
        dir,
        exists: (p) => fs.existsSync(path.join(dir, "root", p)),
        run(script) {
            fs.writeFileSync(path.join(dir, "reset.sh"), script);
            const mounts = BOUND.map((b) => `mount --bind '${path.join(dir, "root", b)}' '${b}'`).join("\n");
            const r = spawnSync("unshare", ["-m", "--propagation", "private", "bash", "-c", `set -e\n${mounts}\nexec bash '${path.join(dir, "reset.sh")}'`], {
                encoding: "utf8",
                stdio: ["ignore", "pipe", "pipe"], // not a socket: bash would take itself for a remote shell and read ~/.bashrc
                env: { PATH: `${bin}:/usr/sbin:/usr/bin:/sbin:/bin`, GW_LOG: log, GW_UNITS: path.join(dir, "units"), GW_PKGS: path.join(dir, "pkgs") },
                timeout: 60_000,
            });
            if (r.status !== 0) throw new Error(`reset.sh failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
            const all = fs.existsSync(log) ? fs.readFileSync(log, "utf8").split("\n").filter(Boolean) : [];
            const calls = all.slice(seen);
            seen = all.length;
            return { output: r.stdout + r.stderr, calls };
        },
    };
}

/** Every path a machine's bootstrap writes with gw_put (heredoc files), from the rendered script, but the login user's sudo rule (a reset keeps it). */
function writtenPaths(bootstrap: string): string[] {
    return [...bootstrap.matchAll(/^gw_put '([^']+)' 0[0-7]{3} <</gm)].map((m) => m[1]).filter((p) => !p.startsWith("/etc/sudoers.d/"));
}

function rendered(mutate?: (platform: Record<string, any>) => void) {
    const doc = parseYaml(fs.readFileSync(STACK, "utf8"));
    if (mutate) mutate(doc.config["groundwork:platform"]);
    const r = loadStackFile(writeStackFile(doc.config));
    assert.deepStrictEqual(r.problems, []);
    return renderStack(r.spec!);
}

describe("reset.sh: what a bare-metal host runs when it leaves the platform", function () {
    this.timeout(120_000);
    const dirs: string[] = [];
    after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

    it("is rendered for every bare-metal host (never for onDestroy: keep), passes shellcheck, and names no secret", () => {
        const files = rendered().files;
        const resets = [...files.keys()].filter((k) => k.endsWith("/reset.sh")).sort();
        assert.deepStrictEqual(resets, ["gwk-cp-1/reset.sh", "gwk-registry/reset.sh", "gwk-worker-1/reset.sh"]);
        for (const k of resets) {
            const text = files.get(k)!;
            assert.doesNotMatch(text, /@@GROUNDWORK:|PRIVATE KEY|BEGIN CERTIFICATE/, k);
            const r = spawnSync("shellcheck", ["-s", "bash", "-"], { input: text, encoding: "utf8" });
            assert.strictEqual(r.status, 0, `${k}: ${r.stdout}`);
        }
        const keep = rendered((p) => (p.backends.baremetal.onDestroy = "keep")).files;
        assert.deepStrictEqual([...keep.keys()].filter((k) => k.endsWith("/reset.sh")), []);
    });

    it("a worker: kubeadm reset, every file its bootstrap wrote gone, containerd restarted on its defaults, the operator's files kept; a second run changes nothing", () => {
        const files = rendered().files;
        const written = writtenPaths(files.get("gwk-worker-1/bootstrap.sh")!);
        assert.ok(written.includes("/etc/containerd/config.toml") && written.includes("/etc/groundwork/kubeadm/join.template.yaml"), written.join(" "));
        const state = ["/etc/kubernetes/kubelet.conf", "/etc/kubernetes/pki/ca.crt", "/etc/kubernetes/manifests/kube-vip.yaml", "/etc/groundwork/join.env", "/etc/cni/net.d/10-flannel.conflist", "/var/lib/cni/networks/cbr0/10.244.1.2", "/var/lib/groundwork/apt/lists/x", "/usr/local/sbin/groundwork-bootstrap", "/run/flannel/subnet.env"];
        const box = sandbox([...written, ...state, ...KEEP], ["kubelet", "containerd"], []);
        dirs.push(box.dir);
        const first = box.run(files.get("gwk-worker-1/reset.sh")!);
        for (const p of [...written, ...state]) assert.ok(!box.exists(p), `${p} is still there:\n${first.output}`);
        for (const p of ["/etc/groundwork", "/var/lib/groundwork", "/var/lib/cni", "/etc/containerd/certs.d/docker.io", "/usr/local/share/ca-certificates/groundwork"]) assert.ok(!box.exists(p), p);
        // CNI's folder stays, empty: containerd makes it again whenever it starts.
        assert.deepStrictEqual(fs.readdirSync(path.join(box.dir, "root/etc/cni/net.d")), []);
        for (const p of KEEP) assert.ok(box.exists(p), `${p} was removed`);
        assert.deepStrictEqual(first.calls, [
            "kubeadm reset --force --cri-socket=unix:///run/containerd/containerd.sock",
            "systemctl is-enabled --quiet kubelet",
            "systemctl disable --now kubelet",
            "systemctl is-active --quiet containerd",
            "systemctl daemon-reload",
            "systemctl restart containerd",
            "update-ca-certificates --fresh",
        ]);
        assert.match(first.output, /reset of gwk-worker-1 done: \d+ change\(s\)/);
        const second = box.run(files.get("gwk-worker-1/reset.sh")!);
        assert.match(second.output, /reset of gwk-worker-1 done: 0 change\(s\)/, second.output);
        assert.deepStrictEqual(second.calls, ["systemctl is-enabled --quiet kubelet", "systemctl is-active --quiet kubelet"]);
    });

    it("purge: also every package the bootstrap installed, unheld first; packages of the operator's stay", () => {
        const files = rendered((p) => (p.backends.baremetal.onDestroy = "purge")).files;
        const box = sandbox(writtenPaths(files.get("gwk-worker-1/bootstrap.sh")!), ["containerd"], ["containerd", "runc", "kubeadm", "kubelet", "kubectl", "cri-tools", "kubernetes-cni", "openssh-server"]);
        dirs.push(box.dir);
        const { calls } = box.run(files.get("gwk-worker-1/reset.sh")!);
        const wanted = "containerd cri-tools kubeadm kubectl kubelet kubernetes-cni runc";
        assert.deepStrictEqual(calls.filter((c) => c.startsWith("apt")), [`apt-mark unhold ${wanted}`, `apt-get -q -y purge ${wanted}`]);
        assert.strictEqual(fs.readFileSync(path.join(box.dir, "pkgs"), "utf8"), "openssh-server\n");
    });

    it("the registry host: docker-registry stopped and disabled, its TLS key and htpasswd gone, its images kept", () => {
        const files = rendered().files;
        const written = writtenPaths(files.get("gwk-registry/bootstrap.sh")!);
        assert.ok(written.some((p) => p.endsWith(".key")) && written.some((p) => p.includes("htpasswd")), written.join(" "));
        const box = sandbox([...written, ...KEEP], ["docker-registry"], []);
        dirs.push(box.dir);
        const { calls } = box.run(files.get("gwk-registry/reset.sh")!);
        for (const p of written) assert.ok(!box.exists(p), p);
        assert.ok(box.exists("/var/lib/docker-registry/docker/registry/v2/blobs/x"));
        assert.ok(calls.includes("systemctl disable --now docker-registry"), calls.join("\n"));
        assert.ok(!calls.some((c) => c.startsWith("kubeadm")), calls.join("\n"));
    });
});

// shellcheck is needed above; fail with its name, not a spawn error, when it is missing.
before(() => {
    try {
        execFileSync("shellcheck", ["--version"], { stdio: "ignore" });
    } catch {
        throw new Error("shellcheck is missing: bash tools/deps.sh validators");
    }
});
