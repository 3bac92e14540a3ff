/**
 * QEMU user emulation for foreign platforms: which binfmt_misc entries a build needs (pure), and
 * the check/registration against /proc/sys/fs/binfmt_misc (adapter).
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ActionError, run } from '../runtime/index.js'
import type { Platform } from './reference.js'

/** The binfmt_misc/qemu name for an OCI architecture. */
const QEMU_NAME: Record<string, string> = {
  amd64: 'x86_64',
  arm64: 'aarch64',
  arm: 'arm',
  '386': 'i386',
  ppc64le: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  mips64le: 'mips64el',
  loong64: 'loongarch64'
}

/** Architectures a host runs without emulation. */
const NATIVE: Record<string, string[]> = { amd64: ['amd64', '386'], arm64: ['arm64', 'arm'] }

/** The qemu-<name> binfmt entries the platforms need on a host of architecture `hostArch`. */
export function emulatorsNeeded(platforms: readonly Platform[], hostArch: string): string[] {
  const native = NATIVE[hostArch] ?? [hostArch]
  const names = platforms
    .filter(p => p.os === 'linux' && !native.includes(p.architecture))
    .map(p => QEMU_NAME[p.architecture] ?? p.architecture)
  return [...new Set(names)]
}

export type BinfmtState = 'enabled' | 'disabled' | 'missing'

export function binfmtState(dir: string, name: string): BinfmtState {
  const entry = join(dir, `qemu-${name}`)
  if (!existsSync(entry)) return 'missing'
  return readFileSync(entry, 'utf8').split('\n')[0]?.trim() === 'enabled' ? 'enabled' : 'disabled'
}

export interface QemuResult {
  needed: string[]
  registered: string[]
}

/**
 * Makes sure every needed emulator is registered: with root, mounts binfmt_misc and enables
 * Debian's qemu-user-static entries (installing the package when absent); without root, explains.
 */
export async function ensureEmulators(
  names: readonly string[],
  options: {
    dir?: string
    isRoot?: boolean
    canSudo?: boolean
    log?: (line: string) => void
    /** The process runner (the runtime's `run`); tests give their own to see the commands. */
    run?: typeof run
  } = {}
): Promise<QemuResult> {
  const exec = options.run ?? run
  const dir = options.dir ?? '/proc/sys/fs/binfmt_misc'
  const isRoot = options.isRoot ?? process.getuid?.() === 0
  const log = options.log ?? (() => undefined)
  const result: QemuResult = { needed: [...names], registered: [] }
  if (names.length === 0) return result
  const missing = () => names.filter(n => binfmtState(dir, n) !== 'enabled')
  if (missing().length === 0) return result

  const wanted = missing()
  const commands = [
    ...(existsSync(join(dir, 'register')) ? [] : [`mount -t binfmt_misc binfmt_misc ${dir}`]),
    'apt-get update',
    'apt-get install qemu-user-static binfmt-support',
    ...wanted.map(n => `update-binfmts --enable qemu-${n}`)
  ]
  // GitHub-hosted runners are not root but have password-less sudo.
  const canSudo =
    !isRoot &&
    (options.canSudo ??
      (
        await exec('sudo', ['-n', 'true'], { allowFailure: true, silent: true }).catch(() => ({
          exitCode: 1
        }))
      ).exitCode === 0)
  const privileged = (command: string, args: string[], env: Record<string, string> = {}) =>
    isRoot
      ? exec(command, args, { allowFailure: true, silent: true, env })
      : exec('sudo', ['-n', 'env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), command, ...args], {
          allowFailure: true,
          silent: true
        })
  if (!isRoot && !canSudo) {
    throw new ActionError(
      `QEMU emulation for ${wanted.map(n => `qemu-${n}`).join(', ')} is not registered in ${dir}, and this step is neither root nor allowed password-less sudo`,
      {
        hint: `Register it once on the runner as root (${commands.join('; ')}), or build only the runner's platform.`
      }
    )
  }
  if (!existsSync(join(dir, 'register'))) {
    log(`mounting binfmt_misc on ${dir}`)
    const mounted = await privileged('mount', ['-t', 'binfmt_misc', 'binfmt_misc', dir])
    if (mounted.exitCode !== 0) {
      throw new ActionError(`Cannot mount binfmt_misc on ${dir}, needed for QEMU emulation`, {
        hint: 'Is the kernel built with CONFIG_BINFMT_MISC, and is the runner allowed to mount it?',
        details: mounted.stderr.trim().split('\n').slice(-3)
      })
    }
  }
  const hasUpdateBinfmts =
    (await exec('sh', ['-c', 'command -v update-binfmts'], { allowFailure: true, silent: true })).exitCode ===
    0
  const hasQemu = wanted.every(
    n => existsSync(`/usr/bin/qemu-${n}-static`) || existsSync(`/usr/libexec/qemu-binfmt/${n}-binfmt-P`)
  )
  if (!hasUpdateBinfmts || !hasQemu) {
    // A fresh runner's package lists may be missing or older than the archive: install fails
    // ("Unable to locate package", 404) unless they are read first. One failing source (a flaky
    // third-party repository) fails the update but not the install, so it only counts if the
    // install then fails too.
    log('reading the Debian package lists (apt-get update)')
    const update = await privileged('apt-get', ['update', '-qq'], { DEBIAN_FRONTEND: 'noninteractive' })
    const updateFailure =
      update.exitCode === 0 ? [] : [`apt-get update failed first: ${lastLine(update.stderr)}`]
    if (updateFailure.length) log(`${updateFailure[0]}; installing with the package lists there are`)
    log('installing Debian packages qemu-user-static and binfmt-support')
    const install = await privileged(
      'apt-get',
      ['install', '-y', '-qq', '--no-install-recommends', 'qemu-user-static', 'binfmt-support'],
      { DEBIAN_FRONTEND: 'noninteractive' }
    )
    if (install.exitCode !== 0) {
      throw new ActionError(
        'QEMU user emulation is needed for the requested platforms, and installing qemu-user-static failed',
        {
          hint: `Install it on the runner (${commands.join('; ')}), or build only the runner's platform.`,
          details: [...updateFailure, ...install.stderr.trim().split('\n').slice(-5)]
        }
      )
    }
  }
  for (const name of wanted) {
    log(`registering qemu-${name} in binfmt_misc`)
    await privileged('update-binfmts', ['--enable', `qemu-${name}`])
    if (binfmtState(dir, name) !== 'enabled') {
      throw new ActionError(`qemu-${name} could not be registered in ${dir}`, {
        hint: `Check 'update-binfmts --display qemu-${name}' on the runner; qemu-user-static must provide /usr/bin/qemu-${name}-static.`
      })
    }
    result.registered.push(name)
  }
  return result
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop() || 'no output'
}
