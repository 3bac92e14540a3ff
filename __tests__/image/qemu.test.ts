import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { binfmtState, emulatorsNeeded, ensureEmulators } from '../../src/image/qemu.js'
import { ActionError } from '../../src/runtime/errors.js'

const linux = (architecture: string, variant?: string) =>
  variant ? { os: 'linux', architecture, variant } : { os: 'linux', architecture }

describe('which emulators a build needs', () => {
  it.each([
    ['amd64', [linux('amd64')], []],
    ['amd64', [linux('amd64'), linux('arm64')], ['aarch64']],
    ['amd64', [linux('386')], []],
    ['amd64', [linux('arm', 'v7'), linux('arm', 'v6'), linux('ppc64le')], ['arm', 'ppc64le']],
    ['arm64', [linux('amd64'), linux('arm64'), linux('arm', 'v7')], ['x86_64']],
    ['amd64', [linux('riscv64'), linux('s390x')], ['riscv64', 's390x']]
  ])('on %s for %j: %j', (host, platforms, expected) => {
    expect(emulatorsNeeded(platforms, host)).toEqual(expected)
  })
})

describe('binfmt_misc', () => {
  const dir = mkdtempSync(join(tmpdir(), 'binfmt-'))
  writeFileSync(join(dir, 'register'), '')
  writeFileSync(join(dir, 'qemu-aarch64'), 'enabled\ninterpreter /usr/bin/qemu-aarch64-static\nflags: OCF\n')
  writeFileSync(join(dir, 'qemu-arm'), 'disabled\ninterpreter /usr/bin/qemu-arm-static\n')

  it('reads the state of an entry', () => {
    expect(binfmtState(dir, 'aarch64')).toBe('enabled')
    expect(binfmtState(dir, 'arm')).toBe('disabled')
    expect(binfmtState(dir, 'riscv64')).toBe('missing')
  })

  it('does nothing when every emulator is registered', async () => {
    await expect(ensureEmulators(['aarch64'], { dir, isRoot: false })).resolves.toEqual({
      needed: ['aarch64'],
      registered: []
    })
  })

  it('explains what to run when an emulator is missing and the step is not root', async () => {
    const err = await ensureEmulators(['aarch64', 'riscv64', 'arm'], { dir, isRoot: false }).catch(
      e => e as ActionError
    )
    expect(err).toBeInstanceOf(ActionError)
    expect((err as ActionError).message).toBe(
      `QEMU emulation for qemu-riscv64, qemu-arm is not registered in ${dir}, and this step is neither root nor allowed password-less sudo`
    )
    expect((err as ActionError).hint).toContain('update-binfmts --enable qemu-riscv64')
    expect((err as ActionError).hint).toContain('apt-get install qemu-user-static binfmt-support')
  })

  describe('as root on a runner without qemu-user-static (the process runner stubbed: commands recorded)', () => {
    type Runner = NonNullable<Parameters<typeof ensureEmulators>[1]>['run']
    const fresh = () => {
      const d = mkdtempSync(join(tmpdir(), 'binfmt-root-'))
      writeFileSync(join(d, 'register'), '')
      return d
    }
    const runner = (d: string, failing: string, calls: string[]): Runner =>
      (async (command: string, args: readonly string[]) => {
        const line = [command, ...args].join(' ')
        calls.push(line)
        if (line.startsWith('sh -c command -v update-binfmts')) return { exitCode: 1, stdout: '', stderr: '' }
        if (line.startsWith(failing)) return { exitCode: 100, stdout: '', stderr: `E: ${failing} went wrong` }
        if (command === 'update-binfmts') writeFileSync(join(d, `qemu-${args[1]!.slice(5)}`), 'enabled\n')
        return { exitCode: 0, stdout: '', stderr: '' }
      }) as Runner

    it('reads the package lists before it installs, then registers the emulator', async () => {
      const d = fresh()
      const calls: string[] = []
      await expect(
        ensureEmulators(['aarch64'], { dir: d, isRoot: true, run: runner(d, 'none', calls) })
      ).resolves.toEqual({ needed: ['aarch64'], registered: ['aarch64'] })
      expect(calls).toEqual([
        'sh -c command -v update-binfmts',
        'apt-get update -qq',
        'apt-get install -y -qq --no-install-recommends qemu-user-static binfmt-support',
        'update-binfmts --enable qemu-aarch64'
      ])
    })

    it('goes on to the install when apt-get update fails, and names both when the install fails too', async () => {
      const d = fresh()
      const calls: string[] = []
      const lines: string[] = []
      await expect(
        ensureEmulators(['aarch64'], {
          dir: d,
          isRoot: true,
          log: l => lines.push(l),
          run: runner(d, 'apt-get update', calls)
        })
      ).resolves.toEqual({ needed: ['aarch64'], registered: ['aarch64'] })
      expect(lines).toContain(
        'apt-get update failed first: E: apt-get update went wrong; installing with the package lists there are'
      )
      const err = await ensureEmulators(['aarch64'], {
        dir: fresh(),
        isRoot: true,
        run: runner(d, 'apt-get', [])
      }).catch(e => e as ActionError)
      expect((err as ActionError).message).toBe(
        'QEMU user emulation is needed for the requested platforms, and installing qemu-user-static failed'
      )
      expect((err as ActionError).details).toEqual([
        'apt-get update failed first: E: apt-get went wrong',
        'E: apt-get went wrong'
      ])
    })
  })
})
