import * as pulumi from "@pulumi/pulumi";
import { recorder } from "./mocks";

// One recording mock for the whole run, set before any component module registers a resource.
const ready = pulumi.runtime.setMocks(recorder, "groundwork", "test", false);

export const mochaHooks = {
    async beforeAll(): Promise<void> {
        await ready;
    },
    beforeEach(): void {
        recorder.reset();
    },
};
