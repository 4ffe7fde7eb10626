import * as fs from 'fs';
import * as path from 'path';

/**
 * What the driver needs to know about processes to recover from a killed tick: whether the
 * process that held a clone is still the same running process, and which processes a killed tick
 * left behind (its git and synth children live on when only the driver is killed, as the OOM
 * killer does). Linux answers from /proc; elsewhere liveness falls back to `kill(pid, 0)` and no
 * leftover process can be seen.
 */

/** A process identity that survives pid reuse: the kernel's start time (clock ticks since boot). */
export interface ProcessIdentity {
  pid: number;
  /** /proc/<pid>/stat starttime; absent off Linux. */
  startTicks?: number;
}

interface ProcStat {
  ppid: number;
  startTicks: number;
}

const PROC = '/proc';

function procStat(pid: number | 'self'): ProcStat | undefined {
  try {
    const text = fs.readFileSync(`${PROC}/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: fields start after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), startTicks: Number(fields[19]) };
  } catch {
    return undefined;
  }
}

export function selfIdentity(): ProcessIdentity {
  return identityOf(process.pid);
}

/** The identity of a running process (`pid` alone off Linux or once it has exited). */
export function identityOf(pid: number): ProcessIdentity {
  const stat = procStat(pid === process.pid ? 'self' : pid);
  return stat ? { pid, startTicks: stat.startTicks } : { pid };
}

/** True while the process `id` names is running (a reused pid with another start time is not it). */
export function isRunning(id: ProcessIdentity): boolean {
  if (id.pid === process.pid) return false;
  if (id.startTicks !== undefined) {
    const stat = procStat(id.pid);
    if (stat) return stat.startTicks === id.startTicks;
    if (fs.existsSync(PROC)) return false;
  }
  try {
    process.kill(id.pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** This process and its ancestors (a shell or CronJob wrapper that started us in the clone). */
function lineage(): Set<number> {
  const out = new Set<number>([process.pid]);
  let pid = process.ppid;
  for (let i = 0; i < 64 && pid > 1 && !out.has(pid); i++) {
    out.add(pid);
    const stat = procStat(pid);
    if (!stat) break;
    pid = stat.ppid;
  }
  return out;
}

/**
 * Processes working inside `dir` (their current directory is `dir` or below) that started no
 * earlier than `sinceTicks`: what a killed tick started there (git, the synth command) and may
 * still be running. Never this process or its ancestors. Empty off Linux.
 */
export function leftoverProcesses(dir: string, sinceTicks: number): { pid: number; command: string }[] {
  let pids: string[];
  try {
    pids = fs.readdirSync(PROC).filter((p) => /^\d+$/.test(p));
  } catch {
    return [];
  }
  const root = fs.realpathSync(dir);
  const mine = lineage();
  const out: { pid: number; command: string }[] = [];
  for (const p of pids) {
    const pid = Number(p);
    if (mine.has(pid)) continue;
    let cwd: string;
    try {
      cwd = fs.readlinkSync(`${PROC}/${p}/cwd`);
    } catch {
      continue; // gone, or not ours to look at
    }
    if (cwd !== root && !cwd.startsWith(root + path.sep)) continue;
    const stat = procStat(pid);
    if (!stat || stat.startTicks < sinceTicks) continue;
    let command = '';
    try {
      command = fs.readFileSync(`${PROC}/${p}/cmdline`, 'utf8').split('\0').join(' ').trim().slice(0, 120);
    } catch {
      /* exited meanwhile */
    }
    out.push({ pid, command });
  }
  return out;
}
