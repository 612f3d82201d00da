import { parseFlags } from "../args";
import { EXIT, reportProblems, specOrExit, STACK_FLAGS } from "../common";
import { userDataProblems } from "../userdata-size";
import { renderStack } from "./render";

export const summary = "validate a stack's config: exit 0 and a summary, or exit 2 and every problem";

export async function run(argv: string[]): Promise<number> {
    const { flags } = parseFlags(argv, { ...STACK_FLAGS });
    const r = specOrExit(flags);
    if (typeof r === "number") return r;
    const { spec, stack } = r;
    // What the backends will refuse at deploy time is refused here: every VM's user-data fits its backend.
    const tooLarge = userDataProblems(spec, renderStack(spec));
    if (tooLarge.length > 0) return reportProblems({ ...stack, problems: tooLarge });
    const byRole = (role: string) => spec.machines.filter((m) => m.role === role).length;
    const backends = [...new Set(spec.machines.map((m) => m.backend))].sort().join("+");
    process.stdout.write(
        `${stack.source}: valid — ${spec.config.name} (${spec.config.environment}): ${byRole("control-plane")} control plane, ${byRole("worker")} workers` +
            `${byRole("registry") ? `, ${byRole("registry")} registry` : ""} on ${backends}; Kubernetes ${spec.config.cluster.kubernetesVersion}, ${spec.config.engine.kind}\n`,
    );
    return EXIT.ok;
}
