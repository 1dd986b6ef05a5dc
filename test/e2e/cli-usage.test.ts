/**
 * The command line as a user meets it: `--help` and `--version`, each command's help, and every
 * mistake (unknown command, unknown or repeated flag, missing or extra argument) refused with exit 2
 * and the usage instead of a gateway started anyway; `portcullis check` validates without starting.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec } from '../helpers/cli.js';
import { CLI_COMMANDS } from '../../bin/cli-args.js';
import { certificateAuthority } from '../helpers/certificates.js';

const VERSION = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const tempDir = () => mkdtempSync(join(tmpdir(), 'portcullis-cli-usage-'));

describe('CLI: help, version and usage errors', () => {
  it('prints the version with --version and -V', async () => {
    for (const flag of ['--version', '-V']) {
      const result = await exec({}, [flag]);
      assert.equal(result.code, 0);
      assert.equal(result.stdout, `portcullis ${VERSION}\n`);
    }
  });

  it('lists every command with --help, -h and help', async () => {
    for (const args of [['--help'], ['-h'], ['help']]) {
      const result = await exec({}, args);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^Usage: portcullis \[command\] \[options\]/);
      for (const command of CLI_COMMANDS)
        assert.match(result.stdout, new RegExp(`\\n  ${command.name} +${escaped(command.summary)}\\n`));
    }
  });

  it("prints each command's usage and options with <command> --help and help <command>", async () => {
    for (const command of CLI_COMMANDS) {
      for (const args of [
        [command.name, '--help'],
        ['help', command.name],
      ]) {
        const result = await exec({}, args);
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stdout, new RegExp(`^Usage: portcullis ${command.name}`));
        for (const option of command.options)
          assert.ok(result.stdout.includes(`--${option.name}`), `${command.name} --help lists --${option.name}`);
      }
    }
  });

  const mistakes: Array<[string, string[], RegExp]> = [
    ['an unknown command', ['serve'], /unknown command "serve"/],
    ['help for an unknown command', ['help', 'serve'], /unknown command "serve"/],
    ['an unknown flag of start', ['--port', '80'], /unknown option "--port" for start/],
    ['an unknown flag of a command', ['export', '--all'], /unknown option "--all" for export/],
    ['a flag repeated', ['start', '--config', 'a.json', '--config=b.json'], /--config given twice/],
    ['a flag without its value', ['check', '--config'], /--config needs a file/],
    [
      'a value for a flag that takes none',
      ['export', '--include-private-keys=yes'],
      /--include-private-keys takes no value/,
    ],
    ['a missing argument', ['import'], /missing argument <export\.json>/],
    ['an extra argument', ['import', 'a.json', 'b.json'], /unexpected argument "b\.json"/],
    ['a word after start', ['start', 'now'], /unexpected argument "now"/],
  ];
  for (const [what, args, message] of mistakes) {
    it(`refuses ${what} with exit 2 and the usage, starting nothing`, async () => {
      // Ports 1 and 2 would need root: a gateway started anyway could not listen quietly either.
      const result = await exec(
        { PORTCULLIS_PROXY_PORT: '0', PORTCULLIS_ADMIN_PORT: '0', PORTCULLIS_DATA_FILE: join(tempDir(), 'd.json') },
        args,
      );
      assert.equal(result.code, 2, `exit ${result.code}\n${result.stdout}${result.stderr}`);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, message);
      assert.match(result.stderr, /usage: portcullis|Usage: portcullis/i);
      assert.doesNotMatch(result.stderr, /Portcullis is running/);
    });
  }
});

describe('CLI: portcullis check', () => {
  it('validates the configuration file and environment without starting, and summarizes them', async () => {
    const dir = tempDir();
    const file = join(dir, 'config.json');
    writeFileSync(
      file,
      JSON.stringify({ proxy: { port: 18080, publicUrl: 'https://api.example.com' }, store: { file: 'data.json' } }),
    );
    const result = await exec({ PORTCULLIS_ADMIN_PORT: '19080' }, ['check', '--config', file]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /the configuration is valid \(.*config\.json\)/);
    assert.match(result.stdout, /Proxy +http:\/\/127\.0\.0\.1:18080 \(public URL https:\/\/api\.example\.com\)/);
    assert.match(result.stdout, /Admin API +http:\/\/127\.0\.0\.1:19080\/api/);
    assert.ok(result.stdout.includes(`data file ${join(dir, 'data.json')} (created on first start)`), result.stdout);
  });

  it('names an invalid setting and its source in one line, exit 2', async () => {
    const result = await exec({ PORTCULLIS_PROXY_PORT: 'eighty' }, ['check']);
    assert.equal(result.code, 2);
    assert.equal(result.stdout, '');
    assert.match(
      result.stderr,
      /^portcullis check: Invalid configuration: proxy\.port \(from PORTCULLIS_PROXY_PORT\)[^\n]*\n$/,
    );
  });

  it('refuses TLS files that cannot be read or do not pair, as the HTTPS listener would', async () => {
    const dir = tempDir();
    const missing = join(dir, 'missing.json');
    writeFileSync(
      missing,
      JSON.stringify({
        proxy: { tls: { port: 0, certFile: 'nope.pem', keyFile: 'nope-key.pem' } },
        store: { file: 'd.json' },
      }),
    );
    const unreadable = await exec({}, ['check', '--config', missing]);
    assert.equal(unreadable.code, 2);
    assert.match(unreadable.stderr, /Cannot read .*nope\.pem \(proxy\.tls\): ENOENT/);

    const one = certificateAuthority(dir, 'one');
    const other = certificateAuthority(dir, 'other');
    writeFileSync(join(dir, 'cert.pem'), one.cert);
    writeFileSync(join(dir, 'key.pem'), other.key);
    const mismatched = join(dir, 'mismatched.json');
    writeFileSync(
      mismatched,
      JSON.stringify({
        proxy: { tls: { port: 0, certFile: 'cert.pem', keyFile: 'key.pem' } },
        store: { file: 'd.json' },
      }),
    );
    const result = await exec({}, ['check', '--config', mismatched]);
    assert.equal(result.code, 2, result.stdout);
    assert.match(result.stderr, /proxy\.tls: .*cert\.pem and .*key\.pem are not a PEM certificate and its private key/);

    writeFileSync(join(dir, 'key.pem'), one.key);
    const paired = await exec({}, ['check', '--config', mismatched]);
    assert.equal(paired.code, 0, paired.stderr);
    assert.match(paired.stdout, /https on port 0/);
  });
});
