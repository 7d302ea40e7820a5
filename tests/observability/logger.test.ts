// The process logger as an operator sees it: JSON lines when stdout is a pipe (log shippers), pretty
// human lines on a terminal, the call id on a call's lines either way. Each case runs in a child
// process so stdout is a real pipe.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

async function logFromChild(tty: 'auto' | 'tty'): Promise<string> {
  const script = `
    const { createLogger } = await import(${JSON.stringify(path.join(ROOT, 'src/observability/logger.ts'))});
    const log = ${tty === 'tty' ? "createLogger('info', true)" : "createLogger('info')"};
    log.child({ callId: 'call-123' }).info({ provider: { token: 'secret-value' } }, 'stream started');
    setTimeout(() => process.exit(0), 500);
  `;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, timeout: 30_000 });
  return stdout;
}

describe('process logger', () => {
  it('writes JSON lines with the call id when stdout is not a terminal, secrets redacted', async () => {
    const out = await logFromChild('auto');
    const line = JSON.parse(out.trim().split('\n')[0] as string) as Record<string, unknown>;
    expect(line).toMatchObject({ msg: 'stream started', callId: 'call-123', level: 30 });
    expect(out).not.toContain('secret-value');
  });

  it('writes human-readable lines with the call id on a terminal', async () => {
    const out = await logFromChild('tty');
    expect(out).toContain('stream started');
    expect(out).toContain('call-123');
    expect(() => JSON.parse(out.trim().split('\n')[0] as string)).toThrow();
  });
});
