/**
 * CPU time a server spends, read from /proc: utime + stime of a process and of its direct children
 * (nginx's workers, the gateway's when it forks), so every peer is charged the same way whatever
 * its process layout. Linux only; elsewhere the readings are NaN and the reports say so.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

function clockTicksPerSecond(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

const TICKS_PER_SECOND = clockTicksPerSecond();

interface Stat {
  ppid: number;
  ticks: number;
}

/** Fields after the command name (which may hold spaces and parentheses): see proc(5). */
function readStat(pid: number): Stat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // fields[0] is state (field 3); ppid is field 4, utime 14, stime 15
    return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return null;
  }
}

function childrenOf(pid: number): number[] {
  const children: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return children;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    if (readStat(Number(entry))?.ppid === pid) children.push(Number(entry));
  }
  return children;
}

/** CPU seconds used so far by `pid` and its direct children (NaN when /proc cannot tell). */
export function cpuSeconds(pid: number): number {
  const own = readStat(pid);
  if (!own) return NaN;
  let ticks = own.ticks;
  for (const child of childrenOf(pid)) ticks += readStat(child)?.ticks ?? 0;
  return ticks / TICKS_PER_SECOND;
}
