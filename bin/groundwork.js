#!/usr/bin/env node
// Entry point of `npx groundwork`: TypeScript sources run through ts-node in transpile-only mode
// (type checking is `npm run typecheck`'s job), so there is no build step.
"use strict";
require("ts-node").register({ transpileOnly: true, project: require("path").join(__dirname, "..", "tsconfig.json") });
require("../cli/main")
    .main(process.argv.slice(2))
    .then((code) => process.exit(code));
