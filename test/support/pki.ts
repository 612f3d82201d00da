import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

/**
 * Throw-away TLS material and password hashes for tests, made by openssl and the host's
 * libxcrypt — the same shapes the program makes with @pulumi/tls and random.RandomPassword.
 */

/** openssl, in `dir`; its stderr is the error when it fails. */
export function openssl(dir: string, ...args: string[]): void {
    execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

export interface TestCa {
    pem: string;
    certFile: string;
    keyFile: string;
}

/** An ECDSA P-256 CA valid for two days: `<name>.crt` and `<name>.key` in `dir`. */
export function makeCa(dir: string, subject: string, name = "ca"): TestCa {
    openssl(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.crt`, "-days", "2", "-subj", `/CN=${subject}`);
    const certFile = path.join(dir, `${name}.crt`);
    return { pem: fs.readFileSync(certFile, "utf8"), certFile, keyFile: path.join(dir, `${name}.key`) };
}

/** A P-256 server certificate for `host` (and `ips`), signed by `ca`: `<name>.crt` and `<name>.key` in `dir`. */
export function serverCert(dir: string, ca: TestCa, host: string, ips: string[] = [], name = "server"): { certPem: string; keyPem: string; certFile: string; keyFile: string } {
    openssl(dir, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${host}`);
    const sans = [`DNS:${host}`, ...ips.map((ip) => `IP:${ip}`)].join(",");
    fs.writeFileSync(path.join(dir, `${name}.ext`), `subjectAltName=${sans}\nextendedKeyUsage=serverAuth\n`);
    openssl(dir, "x509", "-req", "-in", `${name}.csr`, "-CA", ca.certFile, "-CAkey", ca.keyFile, "-CAcreateserial", "-out", `${name}.crt`, "-days", "2", "-extfile", `${name}.ext`);
    const certFile = path.join(dir, `${name}.crt`);
    const keyFile = path.join(dir, `${name}.key`);
    return { certPem: fs.readFileSync(certFile, "utf8"), keyPem: fs.readFileSync(keyFile, "utf8"), certFile, keyFile };
}

/** A bcrypt hash ($2b$) through the host's libxcrypt (python3's crypt module), as htpasswd wants it. */
export function bcrypt(password: string, rounds = 1024): string {
    const code = `import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=${rounds})))`;
    return execFileSync("/usr/bin/python3", ["-W", "ignore", "-c", code, password]).toString().trim();
}
