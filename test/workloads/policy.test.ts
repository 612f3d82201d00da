import * as assert from "assert";
import { loadStackFile, stackFilePath } from "../../cli/stackfile";
import { stackWorkloadObjects } from "../../components/platform/wiring";
import { K8sObject } from "../../components/workloads/objects";
import { containerImages } from "../../policy/lib";
import { pinnedImages } from "../../policy/policies/pinned-images";
import { resourceArgs, violations } from "../policy/harness";

/** The Pulumi type token of a plain object (`apps/v1` Deployment → kubernetes:apps/v1:Deployment). */
const typeOf = (o: K8sObject) => `kubernetes:${o.apiVersion.includes("/") ? o.apiVersion : `core/${o.apiVersion}`}:${o.kind}`;

describe("workloads: the policy pack's guardrails on the example stacks' objects", () => {
    for (const stack of ["dev", "prod", "customer-dc"]) {
        it(`${stack}: pinned-images finds all 7 container images and no violation`, async () => {
            const objects = stackWorkloadObjects(loadStackFile(stackFilePath(stack)).spec!);
            // site: content + web; api; users: postgres + pg_dump; events; analytics.
            assert.strictEqual(objects.flatMap((o) => containerImages(o)).length, 7);
            const policy = pinnedImages("mandatory");
            for (const o of objects) assert.deepStrictEqual(await violations(policy, resourceArgs(typeOf(o), o as unknown as Record<string, unknown>)), [], `${o.kind}/${o.metadata.name}`);
        });
    }

    it("the guardrail would catch an unpinned image in the same place (the oracle sees our objects)", async () => {
        const objects = stackWorkloadObjects(loadStackFile(stackFilePath("dev")).spec!);
        const sts = JSON.parse(JSON.stringify(objects.find((o) => o.kind === "StatefulSet" && o.metadata.name === "users")));
        sts.spec.template.spec.containers[0].image = "docker.io/library/postgres";
        assert.deepStrictEqual(await violations(pinnedImages("mandatory"), resourceArgs(typeOf(sts), sts)), [
            'spec.template.spec.containers[0].image: image "docker.io/library/postgres" has no tag (means latest); pin a version tag or a digest',
        ]);
    });
});
