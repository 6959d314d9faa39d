import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface NodeTls {
  key: string;
  cert: string;
  ca: string;
}

/**
 * Generates, at test time and into a temp dir (no key is ever committed), a cluster CA and node
 * certificates signed by it, with `openssl` (EC P-256: fast to make). `foreign` signs with another CA.
 */
export class TestPki {
  private readonly dir = mkdtempSync(join(tmpdir(), 'elastica-pki-'));
  readonly ca: { key: string; cert: string };
  readonly foreignCa: { key: string; cert: string };

  constructor() {
    this.ca = this.makeCa('cluster-ca');
    this.foreignCa = this.makeCa('foreign-ca');
  }

  /** A node certificate (serverAuth and clientAuth: it is presented both ways) signed by the cluster CA, or the foreign one. */
  node(name: string, signer: 'cluster' | 'foreign' = 'cluster'): NodeTls {
    const key = join(this.dir, `${name}.key`);
    const csr = join(this.dir, `${name}.csr`);
    const crt = join(this.dir, `${name}.crt`);
    const ext = join(this.dir, `${name}.ext`);
    const caKey = join(this.dir, `${signer}-ca.key`);
    const caCrt = join(this.dir, `${signer}-ca.crt`);
    writeFileSync(
      ext,
      'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=digitalSignature\n',
    );
    openssl(
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      csr,
      '-subj',
      `/CN=${name}`,
    );
    openssl(
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      caCrt,
      '-CAkey',
      caKey,
      '-CAcreateserial',
      '-days',
      '2',
      '-out',
      crt,
      '-extfile',
      ext,
    );
    return { key: readFileSync(key, 'utf8'), cert: readFileSync(crt, 'utf8'), ca: this.ca.cert };
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private makeCa(name: string): { key: string; cert: string } {
    const key = join(this.dir, `${name.replace('-ca', '')}-ca.key`);
    const crt = join(this.dir, `${name.replace('-ca', '')}-ca.crt`);
    openssl(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      crt,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign',
    );
    return { key: readFileSync(key, 'utf8'), cert: readFileSync(crt, 'utf8') };
  }
}

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: 'pipe' });
}
