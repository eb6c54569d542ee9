#!/usr/bin/env node
// The `berth` bin (npx berth, or node_modules/.bin/berth): a committed, executable stub, because
// the compiled dist/main.js is made after npm links bins and tsc does not keep an executable bit.
await import('../dist/main.js');
