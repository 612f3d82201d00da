import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { k8sBinary, runK8s } from "./kubernetes";
import { freePort } from "./net";


function openssl(dir: string, ...args: string[]): void {
    execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

/** CA, API server serving cert (SAN 127.0.0.1), service-account key pair and an admin client cert, in dir. */
function makePki(dir: string): void {
    openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=groundwork-test-ca", "-days", "1");
    const signed = (name: string, subj: string, ext: string) => {
        openssl(dir, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subj);
        fs.writeFileSync(path.join(dir, `${name}.ext`), ext);
        openssl(dir, "x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.crt`, "-days", "1", "-extfile", `${name}.ext`);
    };
    signed("apiserver", "/CN=kube-apiserver", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
    signed("admin", "/O=system:masters/CN=groundwork-test-admin", "extendedKeyUsage=clientAuth\n");
    openssl(dir, "genrsa", "-out", "sa.key", "2048");
    openssl(dir, "rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub");
}

/** Signals a process we started; one that has just exited (ESRCH) is fine. */
function signal(pid: number, sig: NodeJS.Signals): void {
    try {
        process.kill(pid, sig);
    } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ESRCH") throw e;
    }
}

/** A real kube-apiserver with its own etcd on loopback, in a temp folder; stop() ends both by PID. */
export class LoopbackApiServer {
    readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "gw-apiserver-"));
    readonly kubeconfig = path.join(this.dir, "admin.kubeconfig");
    private procs: ChildProcess[] = [];
    private logs: string[] = [];

    async start(): Promise<void> {
        makePki(this.dir);
        const [client, peer, secure] = [await freePort(), await freePort(), await freePort()];
        const etcdUrl = `http://127.0.0.1:${client}`;
        this.spawn("etcd", [
            "--name=default",
            `--data-dir=${path.join(this.dir, "etcd")}`,
            `--listen-client-urls=${etcdUrl}`,
            `--advertise-client-urls=${etcdUrl}`,
            `--listen-peer-urls=http://127.0.0.1:${peer}`,
            `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
            `--initial-cluster=default=http://127.0.0.1:${peer}`,
            "--log-level=warn",
        ]);
        const f = (n: string) => path.join(this.dir, n);
        this.spawn("kube-apiserver", [
            `--etcd-servers=${etcdUrl}`,
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            `--secure-port=${secure}`,
            `--cert-dir=${this.dir}`,
            `--tls-cert-file=${f("apiserver.crt")}`,
            `--tls-private-key-file=${f("apiserver.key")}`,
            `--client-ca-file=${f("ca.crt")}`,
            `--service-account-key-file=${f("sa.pub")}`,
            `--service-account-signing-key-file=${f("sa.key")}`,
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            "--service-cluster-ip-range=10.96.0.0/12",
            "--authorization-mode=Node,RBAC",
            // No controller manager runs here to create the namespaces' default ServiceAccounts.
            "--disable-admission-plugins=ServiceAccount",
        ]);
        const b64 = (n: string) => fs.readFileSync(f(n)).toString("base64");
        fs.writeFileSync(
            this.kubeconfig,
            [
                "apiVersion: v1",
                "kind: Config",
                `clusters: [{name: test, cluster: {server: "https://127.0.0.1:${secure}", certificate-authority-data: ${b64("ca.crt")}}}]`,
                `users: [{name: admin, user: {client-certificate-data: ${b64("admin.crt")}, client-key-data: ${b64("admin.key")}}}]`,
                "contexts: [{name: test, context: {cluster: test, user: admin}}]",
                "current-context: test",
                "",
            ].join("\n"),
        );
        const t0 = Date.now();
        for (;;) {
            try {
                if (this.kubectl(["get", "--raw", "/readyz"]).trim() === "ok") return;
            } catch {
                // not up yet
            }
            const dead = this.procs.find((p) => p.exitCode !== null);
            if (dead || Date.now() - t0 > 120_000) {
                await this.stop();
                throw new Error(`the loopback API server did not become ready (${dead ? `${dead.spawnfile} exited` : "timeout"}): ${this.logs.join("").slice(-2000)}`);
            }
            await new Promise((r) => setTimeout(r, 500));
        }
    }

    kubectl(args: string[], input?: string): string {
        if (input === undefined) return runK8s("kubectl", [`--kubeconfig=${this.kubeconfig}`, ...args]);
        try {
            return execFileSync(k8sBinary("kubectl"), [`--kubeconfig=${this.kubeconfig}`, ...args], { input, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"], timeout: 60_000 });
        } catch (e) {
            const err = e as { stderr?: string; message: string };
            throw new Error(`kubectl ${args.join(" ")}: ${err.stderr || err.message}`);
        }
    }

    /** Stops the API server, then etcd, each by its PID, and removes the temp folder. */
    async stop(): Promise<void> {
        for (const p of [...this.procs].reverse()) {
            if (p.exitCode === null && p.pid !== undefined) {
                const exited = new Promise((r) => p.once("exit", r));
                signal(p.pid, "SIGTERM");
                await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
                if (p.exitCode === null) signal(p.pid, "SIGKILL");
            }
        }
        this.procs = [];
        fs.rmSync(this.dir, { recursive: true, force: true });
    }

    private spawn(name: string, args: string[]): void {
        const p = spawn(k8sBinary(name), args, { stdio: ["ignore", "pipe", "pipe"] });
        const keep = (d: Buffer) => {
            this.logs.push(`[${name}] ${d.toString()}`);
            if (this.logs.length > 200) this.logs.shift();
        };
        p.stdout?.on("data", keep);
        p.stderr?.on("data", keep);
        this.procs.push(p);
    }
}
