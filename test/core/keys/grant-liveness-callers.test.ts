/**
 * Every path that issues or accepts a gateway token asks `grantLiveness`, read from the source (no
 * spy): each named function's calls, followed through the functions of the same files by name.
 * The token authority's grant and endpoint modules (core/oauth/) are each in a row.
 * Handlers that judge a presented grant (a code, a refresh token, a bearer token) must call it
 * themselves; issuing paths may reach it through the step that mints. The behaviour behind each
 * row is exercised in `test/e2e/grant-liveness.test.ts`.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

// The sources, not the build: the test runs from dist/test/core/keys.
const ROOT = normalize(join(dirname(fileURLToPath(import.meta.url)), '../../../..'));
const LIVENESS = 'grantLiveness';
const GATEWAY_TOKENS = 'core/keys/gateway-tokens.ts';

/** Named functions (declarations, methods, consts holding a function) → the names they call, nested named functions apart. */
function callGraph(files: readonly string[]): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  const nameOf = (node: ts.Node): string | undefined => {
    if ((ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node)) && node.name && ts.isIdentifier(node.name))
      return node.name.text;
    if (
      ts.isVariableDeclaration(node) &&
      ts.isIdentifier(node.name) &&
      node.initializer &&
      (ts.isArrowFunction(node.initializer) || ts.isFunctionExpression(node.initializer))
    )
      return node.name.text;
    return undefined;
  };
  const collect = (node: ts.Node, calls: Set<string>): void => {
    if (ts.isCallExpression(node)) {
      const callee = node.expression;
      if (ts.isIdentifier(callee)) calls.add(callee.text);
      else if (ts.isPropertyAccessExpression(callee)) calls.add(callee.name.text);
    }
    node.forEachChild((child) => {
      const name = nameOf(child);
      if (name === undefined) return collect(child, calls);
      const own = graph.get(name) ?? new Set<string>();
      graph.set(name, own);
      collect(child, own);
    });
  };
  for (const file of files) {
    const source = ts.createSourceFile(file, readFileSync(join(ROOT, file), 'utf8'), ts.ScriptTarget.Latest, true);
    collect(source, new Set());
  }
  return graph;
}

function reaches(graph: Map<string, Set<string>>, from: string, target: string): boolean {
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    for (const called of graph.get(name) ?? []) {
      if (called === target) return true;
      stack.push(called);
    }
  }
  return false;
}

/** The token authority's grant and endpoint modules: each must be in a row below. */
const GRANTS_DIR = 'core/oauth/grants';
const ENDPOINTS_DIR = 'core/oauth/endpoints';
const AUTHORITY = ['core/oauth/stored-grants.ts', 'core/oauth/issuance.ts'];
/** Modules with no path to check: the grant interface, endpoints that issue and accept no token. */
const NO_TOKEN_PATH = [
  'core/oauth/grants/grant.ts',
  'core/oauth/endpoints/shared.ts',
  'core/oauth/endpoints/metadata.ts',
  'core/oauth/endpoints/jwks.ts',
];

/** Per authority: its files, the handlers that must call the function themselves, and those that may reach it. */
const PATHS = [
  {
    files: [
      'plugins/oauth2/protect.ts',
      `${GRANTS_DIR}/authorization-code.ts`,
      `${GRANTS_DIR}/refresh-token.ts`,
      `${GRANTS_DIR}/password.ts`,
      `${GRANTS_DIR}/client-credentials.ts`,
      `${GRANTS_DIR}/implicit.ts`,
      `${ENDPOINTS_DIR}/introspect.ts`,
      `${ENDPOINTS_DIR}/revoke.ts`,
      `${ENDPOINTS_DIR}/authorize.ts`,
      `${ENDPOINTS_DIR}/token.ts`,
      ...AUTHORITY,
      'core/oauth/token-formats/jwt.ts',
      GATEWAY_TOKENS,
    ],
    direct: [
      'authorizationCodeGrant',
      'refreshTokenGrant',
      'protect',
      'introspectStored',
      'revokeStored',
      'liveIssueTime',
    ],
    reaching: [
      'passwordGrant',
      'clientCredentialsGrant',
      'implicitRedirect',
      'saveAccessToken',
      'issue',
      'mint',
      'issueClientToken',
    ],
  },
  {
    files: [
      'plugins/client-credentials/service.ts',
      `${GRANTS_DIR}/client-credentials.ts`,
      `${ENDPOINTS_DIR}/introspect.ts`,
      `${ENDPOINTS_DIR}/revoke.ts`,
      `${ENDPOINTS_DIR}/token.ts`,
      'core/oauth/issuance.ts',
      'core/oauth/token-formats/gateway-jwt.ts',
      GATEWAY_TOKENS,
    ],
    direct: ['liveIssueTime'],
    reaching: ['clientCredentialsGrant', 'issueClientToken', 'introspectGatewayToken', 'revokeGatewayToken'],
  },
  { files: ['plugins/jwt-verifier/admission.ts', GATEWAY_TOKENS], direct: [], reaching: ['admit'] },
  { files: ['plugins/apikeys/plugin.ts', GATEWAY_TOKENS], direct: [], reaching: ['acceptToken'] },
  { files: [GATEWAY_TOKENS], direct: ['verifyGatewayToken', 'gatewayTokenProblem'], reaching: [] },
];

describe('Core: every path that issues or accepts a token asks grantLiveness', () => {
  for (const { files, direct, reaching } of PATHS) {
    it(`${files[0]}: ${[...direct, ...reaching].join(', ')}`, () => {
      const graph = callGraph(files);
      for (const handler of [...direct, ...reaching])
        assert.ok(graph.has(handler), `${handler} is a function of ${files.join(', ')}`);
      assert.deepEqual(
        direct.filter((handler) => !graph.get(handler)!.has(LIVENESS)),
        [],
        'handlers that do not call grantLiveness themselves',
      );
      assert.deepEqual(
        reaching.filter((handler) => !reaches(graph, handler, LIVENESS)),
        [],
        'handlers from which no call leads to grantLiveness',
      );
    });
  }

  it('covers every grant and endpoint module of the token authority', () => {
    const listed = new Set(PATHS.flatMap((row) => row.files));
    const modules = [GRANTS_DIR, ENDPOINTS_DIR].flatMap((dir) =>
      readdirSync(join(ROOT, dir))
        .filter((name) => name.endsWith('.ts'))
        .map((name) => `${dir}/${name}`),
    );
    assert.deepEqual(
      modules.filter((file) => !listed.has(file) && !NO_TOKEN_PATH.includes(file)),
      [],
      'modules in no row',
    );
  });

  it('tells a handler that does not ask it (the check is not vacuous)', () => {
    const graph = callGraph(PATHS[0]!.files);
    assert.ok(graph.has('checkChallenge') && graph.has('saveCode'));
    assert.equal(reaches(graph, 'checkChallenge', LIVENESS), false);
    // A code is judged when it is redeemed, not when it is saved.
    assert.equal(reaches(graph, 'saveCode', LIVENESS), false);
  });
});
