import type { Container, KubeObject, PodTemplate } from './objects.js'
import { describeObject } from './objects.js'

export interface ImagePin {
  container: string
  image: string
  /** True when the image names a digest: it is used byte for byte, never re-tagged. */
  byDigest: boolean
}

const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*'
const IMAGE_REF = new RegExp(
  `^(?:[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*(?::[0-9]+)?/)?${COMPONENT}(?:/${COMPONENT})*` +
    `(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`
)
const CONTAINER_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/

/** Checks an image reference the way a registry client would parse it. */
export function imageReferenceProblem(image: string): string | undefined {
  if (image === '') return 'the image is empty'
  if (/@sha256:/.test(image) && !/@sha256:[a-f0-9]{64}$/.test(image)) {
    return `${JSON.stringify(image)} has a malformed digest; a digest is sha256: and 64 lower-case hex digits`
  }
  if (!IMAGE_REF.test(image)) return `${JSON.stringify(image)} is not a valid image reference`
  return undefined
}

/** The `images` input's `container=image` pairs, validated. */
export function parseImagePins(pairs: Map<string, string>): { pins: ImagePin[]; problems: string[] } {
  const pins: ImagePin[] = []
  const problems: string[] = []
  for (const [container, image] of pairs) {
    if (!CONTAINER_NAME.test(container)) {
      problems.push(`${JSON.stringify(container)} is not a container name (lower case letters, digits, -)`)
      continue
    }
    const problem = imageReferenceProblem(image)
    if (problem) {
      problems.push(`${container}: ${problem}`)
      continue
    }
    pins.push({ container, image, byDigest: image.includes('@sha256:') })
  }
  return { pins, problems }
}

export interface PinnedImage {
  object: string
  container: string
  init: boolean
  from: string | undefined
  to: string
}

/** The pod template of a workload-like object, wherever its kind keeps it. */
export function podTemplateOf(obj: KubeObject): PodTemplate | undefined {
  const spec = obj.spec as Record<string, unknown> | undefined
  if (!spec) return undefined
  if (obj.kind === 'Pod') return { spec: spec as PodTemplate['spec'] }
  if (obj.kind === 'CronJob') {
    const jobTemplate = spec.jobTemplate as { spec?: { template?: PodTemplate } } | undefined
    return jobTemplate?.spec?.template
  }
  return spec.template as PodTemplate | undefined
}

/**
 * Sets the image of every container and init container named in a pin, in place, across all
 * objects. Returns what changed, and the pins that matched no container anywhere (almost always
 * a typo the user wants to hear about).
 */
export function pinImages(
  objects: KubeObject[],
  pins: readonly ImagePin[]
): { pinned: PinnedImage[]; unmatched: ImagePin[] } {
  const pinned: PinnedImage[] = []
  const used = new Set<string>()
  for (const obj of objects) {
    const spec = podTemplateOf(obj)?.spec
    if (!spec) continue
    const visit = (containers: Container[] | undefined, init: boolean) => {
      for (const c of containers ?? []) {
        const pin = pins.find(p => p.container === c.name)
        if (!pin) continue
        used.add(pin.container)
        pinned.push({ object: describeObject(obj), container: c.name, init, from: c.image, to: pin.image })
        c.image = pin.image
      }
    }
    visit(spec.initContainers, true)
    visit(spec.containers, false)
  }
  return { pinned, unmatched: pins.filter(p => !used.has(p.container)) }
}
