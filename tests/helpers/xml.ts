/** A parsed XML element: enough for the small documents S3 requests carry (no mixed content, no entities). */
export type XmlElement = {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
};

/**
 * A strict little parser for tests: throws on anything malformed (unclosed or mismatched tags, text outside the
 * root), so a document that parses here is well-formed for the shapes we check.
 */
export function parseXml(source: string): XmlElement {
  const body = source.replace(/^<\?xml[^?]*\?>/, "").trim();
  const token = /<\/?([A-Za-z][\w.-]*)((?:\s+[\w:.-]+="[^"]*")*)\s*(\/?)>|([^<]+)/gy;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let match: RegExpExecArray | null;
  let consumed = 0;
  while (consumed < body.length) {
    token.lastIndex = consumed;
    match = token.exec(body);
    if (!match) throw new Error(`malformed XML at ${consumed}: ${body.slice(consumed, consumed + 40)}`);
    consumed = token.lastIndex;
    const [whole, name, attrs, selfClosing, text] = match;
    if (text !== undefined) {
      const top = stack.at(-1);
      if (!top) {
        if (text.trim()) throw new Error("text outside the root element");
        continue;
      }
      top.text += text;
      continue;
    }
    if (whole.startsWith("</")) {
      const open = stack.pop();
      if (open?.name !== name) throw new Error(`</${name}> closes <${open?.name}>`);
      if (stack.length === 0) root = open;
      continue;
    }
    const attributes: Record<string, string> = {};
    for (const a of (attrs ?? "").matchAll(/([\w:.-]+)="([^"]*)"/g))
      attributes[a[1] as string] = a[2] as string;
    const element: XmlElement = { name: name as string, attributes, children: [], text: "" };
    if (stack.length === 0 && root) throw new Error("more than one root element");
    stack.at(-1)?.children.push(element);
    if (selfClosing) {
      if (stack.length === 0) root = element;
    } else stack.push(element);
  }
  if (stack.length > 0 || !root) throw new Error(`unclosed <${stack.at(-1)?.name}>`);
  return root;
}
