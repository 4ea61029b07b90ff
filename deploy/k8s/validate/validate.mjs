// Offline validation of TuneFleet's deployment files, run by ../check.sh:
//   node validate.mjs --k8s rendered.yaml [--k8s more.yaml ...] --compose ../../../docker-compose.yml
// Kubernetes objects: the JSON schema of each kind (kubernetes-models, @kubernetes-models/keda,
// @kubernetes-models/prometheus-operator), plus a walk over the API types of @kubernetes/client-node
// that rejects unknown fields (the JSON schemas let them through). Strimzi resources have no offline
// schema here: they get structural checks only, and the output says so.
// Compose: the Compose Specification JSON schema shipped with dclint.
import { readFileSync } from "node:fs";
import { parse, parseAllDocuments } from "yaml";
import * as k8s from "@kubernetes/client-node";
import Ajv from "ajv";
import addFormats from "ajv-formats";

const problems = [];
const notes = [];

function modelModule(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  if (group === "keda.sh") return `@kubernetes-models/keda/${group}/${version}/${kind}`;
  if (group === "monitoring.coreos.com") return `@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`;
  if (group === "") return `kubernetes-models/${version}/${kind}`;
  return `kubernetes-models/${group}/${version}/${kind}`;
}

/** The @kubernetes/client-node class of a built-in kind (V1Deployment, V2HorizontalPodAutoscaler, ...). */
function apiClass(apiVersion, kind) {
  const version = apiVersion.split("/").pop();
  const cls = k8s[version.charAt(0).toUpperCase() + version.slice(1) + kind];
  return cls && typeof cls.getAttributeTypeMap === "function" ? cls : null;
}

/** Reports every field that the API type does not have, recursively. */
function unknownFields(value, type, path) {
  if (value === null || value === undefined) return;
  let m = /^Array<(.+)>$/.exec(type);
  if (m) {
    if (!Array.isArray(value)) problems.push(`${path}: a list expected (${type})`);
    else value.forEach((v, i) => unknownFields(v, m[1], `${path}[${i}]`));
    return;
  }
  m = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (m) {
    if (typeof value !== "object" || Array.isArray(value)) problems.push(`${path}: a map expected`);
    else for (const [k, v] of Object.entries(value)) unknownFields(v, m[1], `${path}.${k}`);
    return;
  }
  const cls = k8s[type];
  if (!cls || typeof cls.getAttributeTypeMap !== "function") return;
  if (typeof value !== "object" || Array.isArray(value)) {
    problems.push(`${path}: an object expected (${type})`);
    return;
  }
  const fields = new Map(cls.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [k, v] of Object.entries(value)) {
    if (!fields.has(k)) problems.push(`${path}.${k}: no such field in ${type}`);
    else unknownFields(v, fields.get(k), `${path}.${k}`);
  }
}

function strimzi(doc, where) {
  const need = (cond, what) => { if (!cond) problems.push(`${where}: ${what}`); };
  need(doc.metadata?.name, "metadata.name missing");
  need(doc.spec && typeof doc.spec === "object", "spec missing");
  if (doc.kind === "KafkaTopic" || doc.kind === "KafkaNodePool") {
    need(doc.metadata?.labels?.["strimzi.io/cluster"], "label strimzi.io/cluster missing");
  }
  if (doc.kind === "KafkaTopic") {
    need(Number.isInteger(doc.spec?.partitions) && doc.spec.partitions > 0, "spec.partitions must be a positive integer");
    need(Number.isInteger(doc.spec?.replicas) && doc.spec.replicas > 0, "spec.replicas must be a positive integer");
  }
  if (doc.kind === "KafkaNodePool") {
    need(Array.isArray(doc.spec?.roles) && doc.spec.roles.every((r) => ["broker", "controller"].includes(r)), "spec.roles");
  }
  if (doc.kind === "Kafka") {
    need(Array.isArray(doc.spec?.kafka?.listeners) && doc.spec.kafka.listeners.length > 0, "spec.kafka.listeners");
  }
  notes.push(`${where}: Strimzi ${doc.kind}, structural checks only (no offline schema)`);
}

async function validateManifests(file) {
  const docs = parseAllDocuments(readFileSync(file, "utf8"));
  let count = 0;
  for (const d of docs) {
    if (d.errors.length) {
      problems.push(`${file}: YAML: ${d.errors.map((e) => e.message).join("; ")}`);
      continue;
    }
    const doc = d.toJSON();
    if (!doc) continue;
    count++;
    const where = `${file}: ${doc.kind}/${doc.metadata?.name}`;
    if (!doc.apiVersion || !doc.kind) {
      problems.push(`${where}: apiVersion and kind required`);
      continue;
    }
    if (doc.apiVersion.startsWith("kafka.strimzi.io/")) {
      strimzi(doc, where);
      continue;
    }
    let Model;
    try {
      Model = (await import(modelModule(doc.apiVersion, doc.kind)))[doc.kind];
    } catch (e) {
      problems.push(`${where}: no schema for ${doc.apiVersion} ${doc.kind}`);
      continue;
    }
    try {
      new Model(doc).validate();
    } catch (e) {
      problems.push(`${where}: ${e.message}`);
    }
    const cls = apiClass(doc.apiVersion, doc.kind);
    if (cls) unknownFields(doc, cls.name, where);
  }
  console.log(`${file}: ${count} objects checked`);
}

function validateCompose(file) {
  const schema = JSON.parse(readFileSync(new URL("node_modules/dclint/schemas/compose.schema.json", import.meta.url), "utf8"));
  delete schema.$schema;
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  const check = ajv.compile(schema);
  const compose = parse(readFileSync(file, "utf8"), { merge: true });
  if (!check(compose)) {
    for (const e of check.errors) problems.push(`${file}: ${e.instancePath || "/"} ${e.message} ${JSON.stringify(e.params)}`);
  }
  console.log(`${file}: checked against the Compose Specification schema (${Object.keys(compose.services ?? {}).length} services)`);
}

const args = process.argv.slice(2);
for (let i = 0; i < args.length; i += 2) {
  if (args[i] === "--k8s") await validateManifests(args[i + 1]);
  else if (args[i] === "--compose") validateCompose(args[i + 1]);
  else {
    console.error(`usage: node validate.mjs (--k8s FILE | --compose FILE)...`);
    process.exit(2);
  }
}
for (const n of notes) console.log(`note: ${n}`);
if (problems.length) {
  for (const p of problems) console.error(`INVALID ${p}`);
  process.exit(1);
}
console.log("all valid");
