/**
 * The Node flags the gateway runs with, declared once: in `bin/portcullis.ts`'s shebang (the
 * `portcullis` command), copied by `npm start` and the Docker image (a test keeps them equal), and
 * read from here by whatever else starts the gateway (the benchmark), so it measures what users run.
 *
 * `--max-semi-space-size=32`: the proxy allocates short-lived objects per request; with V8's default
 * young generation many still live at each scavenge, get copied and promoted, and scavenging took
 * ~15% of the CPU under load (trace-gc: 1.8 s of scavenges vs 0.35 s in the same 11 s run, ~25 µs
 * less CPU per request) for ~25 MiB more RSS under load and none when idle.
 *
 * `--no-allocation-site-pretenuring`: a large configuration (10 000 routes, 100 000 keys) is
 * compiled in a burst whose objects all survive; V8 then marks the allocation sites active during
 * that burst, Node's and ours, as long-lived and allocates from them in the old generation from then
 * on. Per-request objects made there die in the old generation but keep the young objects they point
 * to alive until the next full GC: under load each scavenge kept ~5.5 MB instead of ~0.25 MB, took
 * 35-80 ms instead of 4-15 ms, and 10 000 routes cost 1.2-1.5× the CPU per request of 10 routes
 * (docs/benchmarks.md, "10 000 routes"). Without pretenuring, they cost the same.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The flags after `node` in a `#!/usr/bin/env -S node …` line. */
export function flagsOfShebang(line: string): string[] {
  const match = /^#!\/usr\/bin\/env (?:-S )?node((?: --[\w-]+(?:=\S+)?)*)\s*$/.exec(line);
  if (!match) throw new Error(`Not a node shebang: ${line}`);
  return match[1]!.trim().split(/\s+/).filter(Boolean);
}

/** The flags of the gateway's own command. */
export function gatewayNodeFlags(): string[] {
  const script = fileURLToPath(new URL('./portcullis.js', import.meta.url));
  return flagsOfShebang(readFileSync(script, 'utf8').split('\n', 1)[0]!);
}
