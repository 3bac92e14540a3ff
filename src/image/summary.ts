/** The job summary of an image build (pure markdown). */
import { formatDuration, md } from '../runtime/index.js'
import type { BuildFailure, BuildImageResult } from './build.js'

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  const units = ['KiB', 'MiB', 'GiB']
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`
}

export function imageBuildSummary(r: BuildImageResult): string {
  const cache = r.cache.steps
    ? `${r.cache.cached} of ${r.cache.steps} steps from cache`
    : 'no build steps reported'
  const facts: [string, string][] = [
    ['Image', r.imageRef ? `\`${r.imageRef}\`` : `${r.metadata.images.join(', ')} (not pushed)`],
    ['Digest', r.digest ? `\`${r.digest}\`` : '(not pushed)'],
    ['Version', r.metadata.version || '(none)'],
    ['Platforms', r.platforms.join(', ')],
    ['Builder', `${r.builder} (${r.builderName})`],
    ['Build time', `${formatDuration(r.buildMs)} (step ${formatDuration(r.totalMs)})`],
    ['Cache', cache]
  ]
  if (r.qemu.registered.length)
    facts.push(['QEMU', `registered ${r.qemu.registered.map(n => `qemu-${n}`).join(', ')}`])
  const sizes = r.sizes.length
    ? md.table(
        ['Platform', 'Size (compressed)', 'Layers', 'Manifest'],
        r.sizes.map(s => [s.platform, formatBytes(s.bytes), s.layers, `\`${s.digest}\``]),
        ['left', 'right', 'right', 'left']
      )
    : undefined
  return md.join(
    md.heading(`Image build: ${r.metadata.images[0] ?? 'image'}`, 2),
    md.table(['', ''], facts),
    r.metadata.tags.length
      ? md.heading('Tags', 3) + md.bulletList(r.metadata.tags.map(t => `\`${t}\``))
      : undefined,
    sizes && md.heading('Size per platform', 3) + sizes,
    r.warnings.length ? md.heading('Warnings', 3) + md.bulletList(r.warnings) : undefined,
    r.timings.length
      ? md.details(
          'Timings',
          md.table(
            ['Phase', 'Time'],
            r.timings.map(t => [t.phase, formatDuration(t.ms)]),
            ['left', 'right']
          )
        )
      : undefined,
    md.details(
      'Labels',
      md.codeBlock(
        Object.entries(r.metadata.labels)
          .map(([k, v]) => `${k}=${v}`)
          .join('\n')
      )
    )
  )
}

export function buildFailureSummary(failure: BuildFailure, images: readonly string[]): string {
  const f = failure.failed
  return md.join(
    md.heading(`Image build failed: ${images[0] ?? 'image'}`, 2),
    f ? `The ${failure.builder} build stopped at step \`${f.step}\`:` : failure.message,
    f ? md.codeBlock([...f.lines, `ERROR: ${f.error}`].join('\n')) : undefined
  )
}
