import type { XmlElement } from "../helpers/xml.ts";

/**
 * The request body of PutBucketLifecycleConfiguration as the Amazon S3 API Reference documents it
 * (LifecycleConfiguration, LifecycleRule, LifecycleRuleFilter, Transition, LifecycleExpiration,
 * AbortIncompleteMultipartUpload, Noncurrent* data types): for each element, the children it may have (min and
 * max occurrences) or the kind of text it holds. Checked here by hand because there is no published XSD.
 */
type Child = { min: number; max: number };
type ElementRule = { children: Record<string, Child> } | { text: (value: string) => boolean };

const once = { min: 1, max: 1 };
const optional = { min: 0, max: 1 };
const many = { min: 0, max: Number.POSITIVE_INFINITY };
const positiveInt = (v: string) => /^[1-9]\d*$/.test(v);
const nonNegativeInt = (v: string) => /^\d+$/.test(v);
const isoDate = (v: string) => !Number.isNaN(Date.parse(v));
const anyText = () => true;

export const S3_XML_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/";
export const TRANSITION_STORAGE_CLASSES = [
  "GLACIER",
  "STANDARD_IA",
  "ONEZONE_IA",
  "INTELLIGENT_TIERING",
  "DEEP_ARCHIVE",
  "GLACIER_IR",
];

const TAG: ElementRule = { children: { Key: once, Value: once } };
const SCHEMA: Record<string, ElementRule> = {
  LifecycleConfiguration: { children: { Rule: { min: 1, max: 1000 } } },
  Rule: {
    children: {
      ID: optional,
      Prefix: optional, // deprecated in favour of Filter
      Filter: optional,
      Status: once,
      Transition: many,
      Expiration: optional,
      NoncurrentVersionTransition: many,
      NoncurrentVersionExpiration: optional,
      AbortIncompleteMultipartUpload: optional,
    },
  },
  ID: { text: (v) => v.length > 0 && v.length <= 255 },
  Prefix: { text: anyText },
  Filter: {
    children: {
      Prefix: optional,
      Tag: optional,
      ObjectSizeGreaterThan: optional,
      ObjectSizeLessThan: optional,
      And: optional,
    },
  },
  And: {
    children: { Prefix: optional, Tag: many, ObjectSizeGreaterThan: optional, ObjectSizeLessThan: optional },
  },
  Tag: TAG,
  Key: { text: anyText },
  Value: { text: anyText },
  ObjectSizeGreaterThan: { text: nonNegativeInt },
  ObjectSizeLessThan: { text: positiveInt },
  Status: { text: (v) => v === "Enabled" || v === "Disabled" },
  Transition: { children: { Date: optional, Days: optional, StorageClass: optional } },
  Expiration: { children: { Date: optional, Days: optional, ExpiredObjectDeleteMarker: optional } },
  NoncurrentVersionTransition: {
    children: { NoncurrentDays: optional, NewerNoncurrentVersions: optional, StorageClass: optional },
  },
  NoncurrentVersionExpiration: { children: { NoncurrentDays: optional, NewerNoncurrentVersions: optional } },
  AbortIncompleteMultipartUpload: { children: { DaysAfterInitiation: once } },
  Date: { text: isoDate },
  Days: { text: positiveInt },
  NoncurrentDays: { text: positiveInt },
  NewerNoncurrentVersions: { text: positiveInt },
  DaysAfterInitiation: { text: positiveInt },
  ExpiredObjectDeleteMarker: { text: (v) => v === "true" || v === "false" },
  StorageClass: { text: (v) => TRANSITION_STORAGE_CLASSES.includes(v) },
};

/** Every way the document departs from the documented schema (empty: it conforms). */
export function lifecycleSchemaErrors(root: XmlElement): string[] {
  const errors: string[] = [];
  if (root.name !== "LifecycleConfiguration") errors.push(`root is <${root.name}>`);
  if (root.attributes.xmlns !== S3_XML_NAMESPACE) errors.push(`root namespace is ${root.attributes.xmlns}`);
  const visit = (el: XmlElement, path: string) => {
    const rule = SCHEMA[el.name];
    if (!rule) return errors.push(`${path}: <${el.name}> is not in the schema`);
    if ("text" in rule) {
      if (el.children.length > 0) errors.push(`${path}: holds elements, expected text`);
      else if (!rule.text(el.text)) errors.push(`${path}: invalid value ${JSON.stringify(el.text)}`);
      return;
    }
    if (el.text.trim()) errors.push(`${path}: unexpected text`);
    for (const [name, { min, max }] of Object.entries(rule.children)) {
      const n = el.children.filter((c) => c.name === name).length;
      if (n < min || n > max) errors.push(`${path}: ${n} <${name}>, expected ${min}..${max}`);
    }
    for (const child of el.children) {
      if (!(child.name in rule.children)) errors.push(`${path}: <${child.name}> not allowed here`);
      else visit(child, `${path}/${child.name}`);
    }
  };
  visit(root, root.name);
  // Constraints the reference states in prose.
  for (const rule of root.children.filter((c) => c.name === "Rule")) {
    const has = (name: string) => rule.children.some((c) => c.name === name);
    if (has("Prefix") === has("Filter")) errors.push("Rule: exactly one of Filter and the deprecated Prefix");
    const filter = rule.children.find((c) => c.name === "Filter");
    if (filter && filter.children.length > 1)
      errors.push("Rule/Filter: more than one condition outside <And>");
    const actions = [
      "Transition",
      "Expiration",
      "NoncurrentVersionTransition",
      "NoncurrentVersionExpiration",
    ];
    if (!actions.some(has) && !has("AbortIncompleteMultipartUpload")) errors.push("Rule: no action");
    for (const t of rule.children.filter((c) => c.name === "Transition" || c.name === "Expiration")) {
      const when = t.children.filter((c) => c.name === "Days" || c.name === "Date").length;
      if (t.name === "Transition" && when !== 1) errors.push("Transition: exactly one of Days and Date");
      if (t.name === "Expiration" && when > 1) errors.push("Expiration: not both Days and Date");
    }
  }
  return errors;
}
