/**
 * The Kubernetes packages, checked by dpkg itself: it reads their control fields, installs them
 * into an empty root (as it would on a node) and reports what it installed and which Debian
 * packages they still need; apt-ftparchive indexes them as a flat repository like pkgs.k8s.io.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { buildKubernetesRepository } from "../../tools/packages/kubernetes-debs";

describe("packages: Kubernetes debs as pkgs.k8s.io names them", () => {
    let dir: string;
    let debs: string[];
    const versions = { kubernetes: "1.33.13-1.1", criTools: "1.34.0-1.1", kubernetesCni: "1.6.0-1.1" };

    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "gw-debs-"));
        const bin = (name: string) => {
            const f = path.join(dir, "bin", name);
            fs.mkdirSync(path.dirname(f), { recursive: true });
            fs.writeFileSync(f, `#!/bin/sh\necho "${name} stand-in"\n`, { mode: 0o700 });
            return f;
        };
        const b = { kubeadm: bin("kubeadm"), kubelet: bin("kubelet"), kubectl: bin("kubectl"), crictl: bin("crictl"), cniPlugins: { bridge: bin("bridge"), "host-local": bin("host-local"), loopback: bin("loopback"), portmap: bin("portmap") } };
        debs = buildKubernetesRepository(versions, b, path.join(dir, "repo"));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("names each file <package>_<version>_amd64.deb with pkgs.k8s.io's versions", () => {
        assert.deepStrictEqual(debs.map((d) => path.basename(d)), ["kubeadm_1.33.13-1.1_amd64.deb", "kubelet_1.33.13-1.1_amd64.deb", "kubectl_1.33.13-1.1_amd64.deb", "cri-tools_1.34.0-1.1_amd64.deb", "kubernetes-cni_1.6.0-1.1_amd64.deb"]);
        const field = (deb: string, f: string) => execFileSync("dpkg-deb", ["-f", deb, f]).toString().trim();
        assert.strictEqual(field(debs[0], "Depends"), "cri-tools (>= 1.34.0), kubelet (>= 1.33.0), kubectl (>= 1.33.0), kubernetes-cni (>= 1.6.0)");
        assert.strictEqual(field(debs[1], "Depends"), "iptables (>= 1.4.21), iproute2, mount, kubernetes-cni (>= 1.6.0)");
    });

    it("dpkg installs all five into an empty root: files at their paths, executable, only Debian's own packages missing", () => {
        const emptyRoot = (name: string) => {
            const root = path.join(dir, name);
            for (const d of ["var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers"]) fs.mkdirSync(path.join(root, d), { recursive: true });
            fs.writeFileSync(path.join(root, "var/lib/dpkg/status"), "");
            return root;
        };
        const dpkg = (root: string, ...args: string[]) => execFileSync("dpkg", ["--root", root, "--force-script-chrootless", "--log=/dev/null", ...args], { stdio: ["ignore", "pipe", "pipe"] }).toString();
        // Without forcing, dpkg names every unmet dependency: kubelet's Debian ones (iptables, iproute2; mount is
        // essential on a real node but absent from an empty root), and kubeadm's on the kubelet left unconfigured.
        let refusal = "";
        try {
            dpkg(emptyRoot("strict"), "-i", ...debs);
        } catch (e) {
            refusal = String((e as { stderr: Buffer }).stderr);
        }
        const missing = [...refusal.matchAll(/^ (\S+) depends on (\S+)/gm)].map((m) => `${m[1]} → ${m[2]}`).sort();
        assert.deepStrictEqual(missing, ["kubeadm → kubelet", "kubelet → iproute2;", "kubelet → iptables", "kubelet → mount;"], refusal);
        const root = emptyRoot("root");
        const r = dpkg(root, "--force-depends", "-i", ...debs);
        assert.ok(r.includes("Setting up kubeadm (1.33.13-1.1)"), r);
        const listed = execFileSync("dpkg", ["--root", root, "-L", "kubeadm"]).toString().split("\n");
        assert.ok(listed.includes("/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf"), listed.join("\n"));
        assert.strictEqual(execFileSync(path.join(root, "usr/bin/crictl")).toString().trim(), "crictl stand-in");
        assert.strictEqual((fs.statSync(path.join(root, "opt/cni/bin/portmap")).mode & 0o777).toString(8), "755");
        assert.match(fs.readFileSync(path.join(root, "usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf"), "utf8"), /^EnvironmentFile=-\/var\/lib\/kubelet\/kubeadm-flags\.env$/m);
    });

    it("indexes a flat repository (deb URL/ /) whose Packages file lists the five with their sizes and hashes", () => {
        const packages = fs.readFileSync(path.join(dir, "repo", "Packages"), "utf8");
        const stanzas = packages.trim().split(/\n\n/);
        assert.strictEqual(stanzas.length, 5);
        for (const deb of debs) {
            const stanza = stanzas.find((s) => s.includes(`Filename: ./${path.basename(deb)}`));
            assert.ok(stanza, path.basename(deb));
            assert.ok(stanza!.includes(`Size: ${fs.statSync(deb).size}`));
            const sha = execFileSync("sha256sum", [deb]).toString().split(" ")[0];
            assert.ok(stanza!.includes(`SHA256: ${sha}`));
        }
    });
});
