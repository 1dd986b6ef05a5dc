import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ERROR_CODES,
  GatewayError,
  InsufficientScopeError,
  InvalidBearerTokenError,
  UnauthorizedError,
  bearerChallenge,
} from '../../core/errors.js';

// The sources, not the build: the test runs from dist/test/core.
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const ERRORS_FILE = join('core', 'errors.ts');

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(path);
    return /\.(ts|js)$/.test(entry.name) ? [path] : [];
  });
}

/** `code → status` from the rows of docs/errors.md's table (`| 401 | \`invalid_token\` | when |`). */
export function documentedCodes(markdown: string): Map<string, number> {
  const codes = new Map<string, number>();
  for (const match of markdown.matchAll(/^\|\s*(\d{3})\s*\|\s*`([a-z_]+)`\s*\|/gm)) {
    assert.ok(!codes.has(match[2]!), `docs/errors.md lists ${match[2]} twice`);
    codes.set(match[2]!, Number(match[1]));
  }
  return codes;
}

/** `code → status` as the one-line classes of core/errors.ts construct them (`super(403, 'forbidden', …)`). */
function constructedCodes(source: string): Map<string, number> {
  return new Map([...source.matchAll(/\bsuper\(\s*(\d{3}),\s*'([a-z_]+)'/g)].map((m) => [m[2]!, Number(m[1])]));
}

/** Files outside core/errors.ts that build a GatewayError themselves rather than throwing a declared class. */
export function inlineErrors(files: readonly string[], read: (file: string) => string): string[] {
  const found: string[] = [];
  for (const file of files) {
    if (file === ERRORS_FILE) continue;
    read(file)
      .split('\n')
      .forEach((line, i) => {
        if (/\bnew\s+GatewayError\s*\(|\bextends\s+(GatewayError|OAuthError)\b/.test(line))
          found.push(`${file}:${i + 1}`);
      });
  }
  return found;
}

describe('Errors: every code declared once in core/errors.ts and documented', () => {
  const declared = new Map<string, number>(Object.entries(ERROR_CODES));

  it('docs/errors.md lists exactly the declared codes, each with its status', () => {
    const documented = documentedCodes(readFileSync(join(ROOT, 'docs', 'errors.md'), 'utf8'));
    assert.ok(documented.size > 20, 'the table was parsed');
    assert.deepEqual(
      [...declared.keys()].filter((code) => !documented.has(code)),
      [],
      'declared but not documented',
    );
    assert.deepEqual(
      [...documented.keys()].filter((code) => !declared.has(code)),
      [],
      'documented but not declared',
    );
    for (const [code, status] of declared) assert.equal(documented.get(code), status, `status of ${code}`);
  });

  it('every declared code is thrown by a class of core/errors.ts, with the declared status', () => {
    const constructed = constructedCodes(readFileSync(join(ROOT, ERRORS_FILE), 'utf8'));
    assert.deepEqual(new Map([...constructed].sort()), new Map([...declared].sort()));
  });

  it('no source outside core/errors.ts constructs a GatewayError or declares an error class', () => {
    const files = ['core', 'plugins', 'backoffice', 'bin'].flatMap(sourceFiles);
    assert.ok(files.length > 50, 'the sources were found');
    assert.deepEqual(
      inlineErrors(files, (f) => readFileSync(join(ROOT, f), 'utf8')),
      [],
    );
  });

  it('the source scan catches an inline construction and a stray error class', () => {
    const sources: Record<string, string> = {
      [join('plugins', 'a', 'plugin.ts')]: "const ok = 1;\nthrow new GatewayError(403, 'forbidden', 'no');",
      [join('core', 'b.ts')]: 'class Teapot extends GatewayError {}',
      [ERRORS_FILE]:
        "export class ForbiddenError extends GatewayError { constructor() { super(403, 'forbidden', 'x'); } }",
    };
    assert.deepEqual(
      inlineErrors(Object.keys(sources), (f) => sources[f]!),
      [`${join('plugins', 'a', 'plugin.ts')}:2`, `${join('core', 'b.ts')}:1`],
    );
  });

  it('a code outside the list, or with another status, does not type-check and throws', () => {
    // @ts-expect-error: 'teapot' is not a declared code
    assert.throws(() => new GatewayError(418, 'teapot', 'short and stout'), /not declared/);
    // @ts-expect-error: forbidden is declared with 403
    assert.throws(() => new GatewayError(400, 'forbidden', 'no'), /not declared/);
  });
});

describe('Errors: RFC 6750 bearer challenges', () => {
  it('a request without a token gets the realm alone, no error code', () => {
    const error = new UnauthorizedError('A bearer token is required', bearerChallenge('api "v2"'));
    assert.equal(error.headers?.['www-authenticate'], 'Bearer realm="api \\"v2\\""');
  });

  it('invalid_token and insufficient_scope carry the code, the description and the scope needed', () => {
    assert.equal(
      new InvalidBearerTokenError('The token has expired', 'portcullis').headers?.['www-authenticate'],
      'Bearer realm="portcullis", error="invalid_token", error_description="The token has expired"',
    );
    const scope = new InsufficientScopeError('The token lacks the scopes needed: a b', 'a b', 'portcullis');
    assert.equal(scope.status, 403);
    assert.equal(
      scope.headers?.['www-authenticate'],
      'Bearer realm="portcullis", error="insufficient_scope", error_description="The token lacks the scopes needed: a b", scope="a b"',
    );
  });

  it('among several challenges only the Bearer one carries the error, whatever the description holds', () => {
    const challenges = `Basic realm="portcullis", charset="UTF-8", ${bearerChallenge('portcullis')}, ApiKey realm="portcullis"`;
    const error = new InvalidBearerTokenError('claim "$&" and $\' failed', 'portcullis', challenges);
    assert.equal(
      error.headers?.['www-authenticate'],
      'Basic realm="portcullis", charset="UTF-8", Bearer realm="portcullis", error="invalid_token", error_description="claim \\"$&\\" and $\' failed", ApiKey realm="portcullis"',
    );
  });
});
