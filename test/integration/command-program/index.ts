// The tiny Pulumi program of command-plugin.int.ts (copied to a temporary project folder there):
// remote.Command against the test's loopback sshd and local.Command, through the real engine.
import * as pulumi from "@pulumi/pulumi";
import { local, remote } from "@pulumi/command";
import * as fs from "fs";

const cfg = new pulumi.Config();
const dir = cfg.require("remoteDir"); // the "remote" side: the test reads it back
const trigger = cfg.require("trigger");
const connection = {
    host: "127.0.0.1",
    port: cfg.requireNumber("port"),
    user: cfg.require("user"),
    privateKey: pulumi.secret(fs.readFileSync(cfg.require("keyFile"), "utf8")),
    dialErrorLimit: 3,
};

// stdin lands in a file named after the trigger; a new trigger replaces the resource (create of
// the new one, then delete of the old one).
const write = new remote.Command("write", {
    connection,
    create: `cat > ${dir}/file-${trigger}.txt && echo "created $(cat ${dir}/file-${trigger}.txt)"`,
    delete: `rm ${dir}/file-${trigger}.txt && echo "deleted ${trigger}" >> ${dir}/deleted.log`,
    stdin: `hello-${trigger}`,
    triggers: [trigger],
    logging: cfg.get("logging") as "stdout" | undefined, // a wrong value shows the plugin's message
});

// A secret on stdin, echoed on stdout: the output must be secret in the state.
const secret = new remote.Command("secret", {
    connection,
    create: `cat > ${dir}/secret.txt; cat ${dir}/secret.txt`,
    stdin: cfg.requireSecret("token"),
});

// Environment variables through the SSH session (exported by the shell when sshd refuses them).
const env = new remote.Command("env", {
    connection,
    create: `printf '%s' "$GREETING" > ${dir}/env.txt; echo "$GREETING from $(whoami)"`,
    environment: { GREETING: "it's me" },
});

// Local: interpreter, working directory, environment, stdin from the remote command's stdout.
const here = new local.Command("here", {
    create: `printf '%s\\n' "$WHO" > local-${trigger}.txt; pwd; cat`,
    delete: `rm local-${trigger}.txt`,
    interpreter: ["/bin/bash", "-c"],
    dir: cfg.require("localDir"),
    environment: { WHO: `local-${trigger}` },
    stdin: write.stdout,
    triggers: [trigger],
});

// Connection failures, asked for by the test: a closed port (dialErrorLimit 2) and a wrong host key.
if (cfg.getBoolean("failures")) {
    new remote.Command("unreachable", { connection: { ...connection, port: cfg.requireNumber("closedPort"), dialErrorLimit: 2 }, create: "true" });
    // A failing command whose inputs hold a secret: the reason it gives is shown, the secret's value is not.
    new local.Command("fails-with-secret", {
        create: 'echo "[groundwork] drain n1 failed: a PodDisruptionBudget refuses evicting web-1 (token $TOKEN)" >&2; exit 3',
        interpreter: ["/bin/bash", "-c"],
        environment: { TOKEN: cfg.requireSecret("token") },
    });
    // A failing remote command without secret inputs of its own: its output is shown whole (the
    // connection's host and user are not secrets; only its key is).
    new remote.Command("fails-plainly", { connection, create: 'echo "refused on $(whoami) at $SSH_CONNECTION" >&2; exit 4' });
    new remote.Command("wrong-host-key", { connection: { ...connection, hostKey: cfg.require("wrongHostKey"), dialErrorLimit: 1 }, create: `touch ${dir}/never.txt` });
}

// Through a jump host (connection.proxy): the host is an address only the proxy can reach.
if (cfg.get("bastionHost")) {
    new remote.Command("via-bastion", {
        connection: { ...connection, port: cfg.requireNumber("behindPort"), proxy: { host: cfg.require("bastionHost"), port: cfg.requireNumber("bastionPort"), user: cfg.require("user"), privateKey: pulumi.secret(fs.readFileSync(cfg.require("keyFile"), "utf8")), dialErrorLimit: 2 } },
        create: `echo "$SSH_CONNECTION" > ${cfg.require("behindDir")}/via-bastion.txt; echo "ran behind the bastion"`,
    });
}

export const writeStdout = write.stdout;
export const secretStdout = secret.stdout;
export const envStdout = env.stdout;
export const localStdout = here.stdout;
