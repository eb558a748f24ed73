// Copies the contract (../../proto/v1/pushkin.proto) into the extension, which loads it at run time.
const fs = require("node:fs");
const path = require("node:path");

const source = path.resolve(__dirname, "..", "..", "..", "proto", "v1", "pushkin.proto");
const target = path.resolve(__dirname, "..", "proto", "pushkin.proto");
fs.mkdirSync(path.dirname(target), { recursive: true });
fs.copyFileSync(source, target);
console.log(`copied ${path.relative(process.cwd(), source)} -> ${path.relative(process.cwd(), target)}`);
