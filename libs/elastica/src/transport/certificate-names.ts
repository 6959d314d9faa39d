/** A certificate's subject as Node gives it for a peer (`getPeerCertificate().subject`). */
export type Subject = Record<string, string | string[] | undefined>;

/**
 * The names a certificate gives its holder: the subject's CN and the DNS and URI entries of its
 * subjectAltName (IP entries are addresses, not node ids). With `tls.nodeIdInCertificate`, a peer's
 * HELLO must claim a node id among them, so a certificate issued for one node cannot speak for another.
 */
export function certificateNames(subject: Subject | undefined, subjectAltName: string | undefined): string[] {
  const names: string[] = [];
  const cn = subject?.CN;
  if (Array.isArray(cn)) names.push(...cn);
  else if (cn) names.push(cn);
  for (const entry of splitAltNames(subjectAltName ?? '')) {
    const match = /^(DNS|URI):(.*)$/.exec(entry);
    if (match) names.push(unquote(match[2]));
  }
  return names;
}

/** Undefined when `names` include `nodeId`; otherwise what they are instead, for the refusal's message. */
export function nodeIdNotNamed(names: string[], nodeId: string): string | undefined {
  if (names.includes(nodeId)) return undefined;
  const shown =
    names.length === 0
      ? 'no CN, DNS or URI name'
      : names
          .slice(0, 4)
          .map((n) => JSON.stringify(n))
          .join(', ');
  return `names ${shown}, not the node id ${JSON.stringify(nodeId)}`;
}

/**
 * Node's `subjectaltname` string: entries joined by ", " ("DNS:a, URI:b, IP Address:1.2.3.4"); a value
 * holding special characters is written as a JSON string (DNS:"a, b"), so a comma inside quotes does
 * not split.
 */
function splitAltNames(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted && c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && c === ',' && text[i + 1] === ' ') {
      out.push(text.slice(start, i));
      start = i + 2;
      i++;
    }
  }
  if (start < text.length) out.push(text.slice(start));
  return out;
}

function unquote(value: string): string {
  if (!value.startsWith('"')) return value;
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === 'string' ? parsed : value;
  } catch {
    return value;
  }
}

/** `X509Certificate#subject` ("CN=a\nO=b", one attribute per line) in the shape of a peer's subject. */
export function parseSubject(text: string): Subject {
  const subject: Subject = {};
  for (const line of text.split('\n')) {
    const at = line.indexOf('=');
    if (at <= 0) continue;
    const key = line.slice(0, at);
    const value = line.slice(at + 1);
    const seen = subject[key];
    subject[key] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
  }
  return subject;
}
