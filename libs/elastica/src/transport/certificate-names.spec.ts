import { describe, expect, it } from '@jest/globals';
import { certificateNames, nodeIdNotNamed, parseSubject } from './certificate-names.js';

describe('certificate names (tls.nodeIdInCertificate)', () => {
  it('takes the subject CN and the DNS and URI subjectAltNames, not IP addresses', () => {
    expect(
      certificateNames({ CN: 'node-1', O: 'acme' }, 'DNS:node-1.internal, IP Address:10.0.0.1, URI:elastica:node-1'),
    ).toEqual(['node-1', 'node-1.internal', 'elastica:node-1']);
    expect(certificateNames({ CN: ['a', 'b'] }, undefined)).toEqual(['a', 'b']);
    expect(certificateNames(undefined, undefined)).toEqual([]);
  });

  it('reads a quoted entry as one name, so a comma inside it cannot smuggle in a second', () => {
    // Node writes values with special characters as JSON strings.
    expect(certificateNames({}, 'DNS:"evil, DNS:node-1", DNS:other')).toEqual(['evil, DNS:node-1', 'other']);
    expect(certificateNames({}, 'URI:"a\\"b"')).toEqual(['a"b']);
  });

  it('accepts a node id among the names, and says what the certificate names otherwise', () => {
    expect(nodeIdNotNamed(['10.0.0.1:7000', 'node-1'], 'node-1')).toBeUndefined();
    expect(nodeIdNotNamed(['node-2'], 'node-1')).toBe('names "node-2", not the node id "node-1"');
    expect(nodeIdNotNamed([], 'node-1')).toMatch(/names no CN, DNS or URI name, not the node id "node-1"/);
  });

  it("parses X509Certificate#subject into the shape of a peer certificate's subject", () => {
    expect(parseSubject('C=FR\nO=acme\nCN=node-1')).toEqual({ C: 'FR', O: 'acme', CN: 'node-1' });
    expect(parseSubject('CN=a\nCN=b=c')).toEqual({ CN: ['a', 'b=c'] });
  });
});
