/**
 * A reader of the small YAML subset the Kubernetes examples are written in (examples/kubernetes):
 * `---` between documents, `#` comments, block mappings and sequences by indentation, plain or quoted
 * scalars, and flow sequences of scalars (`['--host', '0.0.0.0']`). Anything else is an error naming
 * the line, so the examples cannot drift into YAML this does not read. Scalars stay strings.
 */
export type YamlValue = string | YamlValue[] | { [key: string]: YamlValue };

interface Line {
  indent: number;
  text: string;
  no: number;
}

export function parseYamlDocuments(source: string): YamlValue[] {
  const docs: Line[][] = [[]];
  source.split('\n').forEach((raw, i) => {
    const text = stripComment(raw).trimEnd();
    if (text.trim() === '---') return docs.push([]);
    if (text.trim() !== '')
      docs.at(-1)!.push({ indent: text.length - text.trimStart().length, text: text.trim(), no: i + 1 });
  });
  return docs
    .filter((d) => d.length > 0)
    .map((lines) => {
      const at = { i: 0 };
      const value = block(lines, at, lines[0].indent);
      if (at.i < lines.length) throw new Error(`line ${lines[at.i].no}: unexpected indentation`);
      return value;
    });
}

function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '#' && (i === 0 || line[i - 1] === ' ')) return line.slice(0, i);
  }
  return line;
}

function block(lines: Line[], at: { i: number }, indent: number): YamlValue {
  return lines[at.i].text.startsWith('- ') || lines[at.i].text === '-'
    ? sequence(lines, at, indent)
    : mapping(lines, at, indent);
}

function sequence(lines: Line[], at: { i: number }, indent: number): YamlValue[] {
  const out: YamlValue[] = [];
  while (at.i < lines.length && lines[at.i].indent === indent && lines[at.i].text.startsWith('-')) {
    const line = lines[at.i];
    const rest = line.text.slice(1).trimStart();
    if (rest === '') {
      at.i++;
      out.push(block(lines, at, lines[at.i].indent));
    } else if (/^[^'"[][^:]*:( |$)/.test(rest)) {
      // "- key: value" opens a mapping whose keys sit two columns in.
      lines[at.i] = { ...line, indent: line.indent + 2, text: rest };
      out.push(mapping(lines, at, line.indent + 2));
    } else {
      at.i++;
      out.push(scalar(rest, line.no));
    }
  }
  return out;
}

function mapping(lines: Line[], at: { i: number }, indent: number): { [key: string]: YamlValue } {
  const out: { [key: string]: YamlValue } = {};
  while (at.i < lines.length && lines[at.i].indent === indent) {
    const line = lines[at.i];
    const match = /^([A-Za-z0-9_.-]+):(?: (.*))?$/.exec(line.text);
    if (!match) throw new Error(`line ${line.no}: expected "key: value", got ${JSON.stringify(line.text)}`);
    at.i++;
    const [, key, rest] = match;
    if (rest !== undefined && rest !== '') out[key] = scalar(rest, line.no);
    else if (at.i < lines.length && lines[at.i].indent > indent) out[key] = block(lines, at, lines[at.i].indent);
    else if (at.i < lines.length && lines[at.i].indent === indent && lines[at.i].text.startsWith('- '))
      out[key] = sequence(lines, at, indent); // a sequence may sit at its key's own indentation
    else out[key] = '';
  }
  if (at.i < lines.length && lines[at.i].indent > indent)
    throw new Error(`line ${lines[at.i].no}: unexpected indentation`);
  return out;
}

function scalar(text: string, no: number): YamlValue {
  if (text.startsWith('[')) {
    if (!text.endsWith(']')) throw new Error(`line ${no}: a flow sequence must end on its line`);
    const inner = text.slice(1, -1).trim();
    return inner === '' ? [] : inner.split(',').map((item) => scalar(item.trim(), no));
  }
  if (text.startsWith('{')) throw new Error(`line ${no}: flow mappings are not in the subset`);
  const quoted = /^'(.*)'$/.exec(text) ?? /^"(.*)"$/.exec(text);
  if (quoted) return quoted[1];
  if (/^['"]/.test(text)) throw new Error(`line ${no}: unterminated quote`);
  return text;
}
