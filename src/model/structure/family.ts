// Which family a network belongs to, from the kinds of its blocks and how their layers look: one table of
// signatures, scored, and 'CNN' unless one clearly wins (a wrong name is worse than none).
import { spatialOutput, type BlockKind, type FoundBlock, type RowFacts } from './blocks';

/** Families recognised, as their papers name them; 'CNN' when none fits. */
export type Family =
  | 'U-Net'
  | 'ResNet'
  | 'ResNeXt'
  | 'Wide ResNet'
  | 'RegNetX'
  | 'RegNetY'
  | 'MobileNet V1'
  | 'MobileNet V2'
  | 'MobileNet V3'
  | 'EfficientNet'
  | 'EfficientNetV2'
  | 'EfficientNet-Lite'
  | 'ReXNet'
  | 'Xception'
  | 'RepVGG'
  | 'Res2Net'
  | 'ResNeSt'
  | 'GhostNet'
  | 'CSPDarknet'
  | 'DPN'
  | 'YOLOv8'
  | 'HRNet'
  | 'DLA'
  | 'SKNet'
  | 'Darknet-53'
  | 'SE-ResNet'
  | 'SE-ResNeXt'
  | 'CSPResNet'
  | 'CSPResNeXt'
  | 'MixNet'
  | 'MnasNet'
  | 'DenseNet'
  | 'GoogLeNet'
  | 'Inception v3'
  | 'Inception-v4'
  | 'Inception-ResNet'
  | 'SqueezeNet'
  | 'ShuffleNet V2'
  | 'ConvNeXt'
  | 'VGG'
  | 'plain CNN'
  | 'CNN';

/** Families whose stages and blocks keep the ResNet paper's names (conv2_x, conv3_1, …). */
export const RESNET_NAMING: ReadonlySet<Family> = new Set(['ResNet', 'ResNeXt', 'Wide ResNet']);

/** What a network shows, as the signatures below ask for it. */
type Feature =
  | 'se' // squeeze-and-excitation in some block
  | 'hardswish'
  | 'relu6'
  | 'swish' // SiLU
  | 'relu'
  | 'grouped' // a bottleneck's middle conv is grouped (ResNeXt's cardinality)
  | 'wide' // every bottleneck's output is twice its middle width (Wide ResNet)
  | 'factorised' // 1×n and n×1 kernels in inception modules (Inception v3)
  | 'large dw' // a depthwise kernel over 3×3 (EfficientNet-Lite, MnasNet)
  | 'fused' // Fused-MBConv blocks (EfficientNetV2)
  | 'dw in modules' // depthwise convs inside parallel-branch modules (MixNet's mixed kernels)
  | 'all 3×3' // every conv of the conv groups is 3×3 (VGG)
  | 'depthwise' // any depthwise conv
  // What most residual blocks are made of (at least half of them):
  | 'separable residual' // pairs of depthwise k×k then 1×1 (Xception's separable convolutions)
  | 'repvgg' // one 3×3 and one 1×1 convolution side by side (RepVGG's training-time branches)
  | 'hierarchical split' // a channel split into 3×3 convolutions that feed each other (Res2Net)
  | 'split attention' // a softmax over the radix splits (ResNeSt)
  | 'ghost' // cheap depthwise features concatenated to a 1×1's (GhostNet)
  | 'inception residual' // parallel branches concatenated, a 1×1, then the residual add (Inception-ResNet)
  | 'cross-stage partial' // residual blocks on one part of a channel split, concatenated (CSPNet)
  | 'aggregation' // residual blocks' outputs concatenated into a 1×1 convolution (DLA's aggregation nodes)
  | 'c2f' // a split whose join also takes every residual block's output (YOLOv8's C2f)
  | 'darknet residual' // a 1×1 then a 3×3 around an identity shortcut (Darknet-53's residual block)
  | 'selective kernel' // two convolutions of one input, weighted by a softmax over them (SKNet)
  | 'mixed kernels'; // a channel split into depthwise convolutions of several kernel sizes (MixNet)

/**
 * A family's signature: the block kinds it is made of, the share of the network's multiply-adds those
 * blocks must hold, and the features it must and must not show. A network is named after the signature
 * that matches with the largest share, and only when it matches clearly; otherwise it is a 'CNN'.
 * Each row has its fixtures in test/unit/families.test.ts and test/unit/exportedFamilies.test.ts.
 */
interface Signature {
  family: Family;
  kinds: BlockKind[];
  cover: number;
  requires?: Feature[];
  excludes?: Feature[];
  /** How many blocks of these kinds the paper's network has, where that tells the family apart. */
  count?: number;
}

export const SIGNATURES: readonly Signature[] = [
  { family: 'DenseNet', kinds: ['dense layer', 'transition'], cover: 0.6 },
  { family: 'ShuffleNet V2', kinds: ['ShuffleNet V2 unit'], cover: 0.5 },
  { family: 'SqueezeNet', kinds: ['fire module'], cover: 0.5 },
  { family: 'ConvNeXt', kinds: ['ConvNeXt block'], cover: 0.6 },
  {
    family: 'GoogLeNet',
    kinds: ['inception module'],
    cover: 0.5,
    excludes: ['factorised', 'dw in modules', 'depthwise'],
  },
  {
    family: 'Inception v3',
    kinds: ['inception module'],
    cover: 0.5,
    requires: ['factorised'],
    excludes: ['dw in modules', 'depthwise'],
    count: 11, // 3 × 35², 5 × 17² (with the grid reduction), 3 × 8²
  },
  {
    family: 'Inception-ResNet',
    kinds: ['residual block', 'inception module'],
    cover: 0.6,
    requires: ['inception residual'],
    excludes: ['depthwise'],
  },
  {
    family: 'Inception-v4',
    kinds: ['inception module'],
    cover: 0.5,
    requires: ['factorised'],
    excludes: ['dw in modules', 'depthwise'],
    count: 16, // 4 Inception-A, Reduction-A, 7 Inception-B, Reduction-B, 3 Inception-C
  },
  { family: 'RegNetY', kinds: ['Y block'], cover: 0.6 },
  { family: 'RegNetX', kinds: ['X block'], cover: 0.6 },
  { family: 'MobileNet V3', kinds: ['inverted residual'], cover: 0.5, requires: ['se', 'hardswish'] },
  {
    family: 'EfficientNetV2',
    kinds: ['inverted residual', 'Fused-MBConv', 'residual block'],
    cover: 0.6,
    requires: ['se', 'fused', 'swish'],
    excludes: ['hardswish', 'relu6'],
  },
  {
    family: 'EfficientNet',
    kinds: ['inverted residual'],
    cover: 0.6,
    requires: ['se', 'swish'],
    excludes: ['hardswish', 'relu6', 'fused', 'dw in modules'],
  },
  {
    // Its partial residuals (the input added to the first channels only) read as generic modules.
    family: 'ReXNet',
    kinds: ['inverted residual', 'branches', 'squeeze-and-excitation'],
    cover: 0.5,
    requires: ['se', 'swish', 'relu6', 'depthwise'],
    excludes: ['hardswish', 'mixed kernels'],
  },
  {
    family: 'MobileNet V2',
    kinds: ['inverted residual'],
    cover: 0.6,
    requires: ['relu6'],
    excludes: ['se', 'swish', 'hardswish', 'large dw', 'dw in modules'],
  },
  {
    family: 'EfficientNet-Lite',
    kinds: ['inverted residual'],
    cover: 0.6,
    requires: ['relu6', 'large dw'],
    excludes: ['se', 'swish', 'hardswish', 'dw in modules'],
  },
  {
    family: 'MnasNet',
    kinds: ['inverted residual'],
    cover: 0.6,
    requires: ['relu', 'large dw'],
    excludes: ['se', 'relu6', 'swish', 'hardswish', 'dw in modules'],
    count: 17, // MnasNet-B1: a separable conv and 16 MBConv; other NAS nets (FBNet) share its block
  },
  {
    family: 'MobileNet V1',
    kinds: ['depthwise separable'],
    cover: 0.5,
    excludes: ['se', 'swish', 'hardswish', 'large dw'],
  },
  {
    family: 'CSPResNet',
    kinds: ['bottleneck'],
    cover: 0.5,
    requires: ['cross-stage partial'],
    excludes: ['depthwise', 'se', 'grouped'],
  },
  {
    family: 'CSPResNeXt',
    kinds: ['bottleneck'],
    cover: 0.5,
    requires: ['cross-stage partial', 'grouped'],
    excludes: ['depthwise', 'se'],
  },
  {
    family: 'ResNeXt',
    kinds: ['bottleneck'],
    cover: 0.5,
    requires: ['grouped'],
    excludes: ['depthwise', 'se', 'cross-stage partial'],
  },
  {
    family: 'Wide ResNet',
    kinds: ['bottleneck'],
    cover: 0.5,
    requires: ['wide'],
    excludes: ['grouped', 'depthwise', 'se', 'cross-stage partial'],
  },
  {
    family: 'SE-ResNeXt',
    kinds: ['bottleneck'],
    cover: 0.5,
    requires: ['grouped', 'se'],
    excludes: ['depthwise', 'cross-stage partial'],
  },
  {
    family: 'SE-ResNet',
    kinds: ['bottleneck', 'basic'],
    cover: 0.5,
    requires: ['se'],
    excludes: ['grouped', 'depthwise', 'cross-stage partial'],
  },
  {
    family: 'ResNet',
    kinds: ['bottleneck', 'basic'],
    cover: 0.5,
    excludes: ['grouped', 'wide', 'depthwise', 'se', 'cross-stage partial'],
  },
  {
    family: 'Xception',
    kinds: ['residual block', 'depthwise separable'],
    cover: 0.5,
    requires: ['separable residual'],
    excludes: ['se', 'swish', 'hardswish', 'relu6', 'ghost'],
  },
  { family: 'DPN', kinds: ['dual path block'], cover: 0.5, excludes: ['depthwise'] },
  { family: 'HRNet', kinds: ['resolution branch'], cover: 0.5, excludes: ['depthwise', 'se'] },
  {
    family: 'DLA',
    kinds: ['branches', 'basic', 'residual block', 'bottleneck'],
    cover: 0.5,
    requires: ['aggregation'],
    excludes: ['depthwise', 'se', 'cross-stage partial'],
  },
  {
    // Ultralytics' backbone: CSPDarknet with C2f modules (and SPPF in the detectors).
    family: 'YOLOv8',
    kinds: ['residual block', 'basic', 'SPPF'],
    cover: 0.3,
    requires: ['c2f'],
    excludes: ['depthwise', 'se'],
  },
  {
    family: 'CSPDarknet',
    kinds: ['residual block', 'basic', 'bottleneck'],
    cover: 0.4,
    requires: ['cross-stage partial', 'darknet residual'],
    excludes: ['depthwise', 'se', 'c2f'],
  },
  {
    family: 'RepVGG',
    kinds: ['residual block'],
    cover: 0.6,
    requires: ['repvgg'],
    excludes: ['depthwise', 'se'],
  },
  {
    family: 'Res2Net',
    kinds: ['residual block'],
    cover: 0.6,
    requires: ['hierarchical split'],
    excludes: ['depthwise', 'split attention'],
  },
  {
    family: 'ResNeSt',
    kinds: ['residual block'],
    cover: 0.5,
    requires: ['split attention'],
    excludes: ['depthwise', 'selective kernel'],
  },
  {
    family: 'SKNet',
    kinds: ['residual block'],
    cover: 0.5,
    requires: ['selective kernel'],
    excludes: ['depthwise'],
  },
  {
    family: 'Darknet-53',
    kinds: ['residual block'],
    cover: 0.5,
    requires: ['darknet residual'],
    excludes: ['depthwise', 'se', 'cross-stage partial'],
  },
  {
    family: 'GhostNet',
    kinds: ['residual block'],
    cover: 0.5,
    requires: ['ghost'],
    excludes: ['mixed kernels'],
  },
  {
    // Its mixed convolutions (split → depthwise k×k of several k → concat) read as modules of their own.
    family: 'MixNet',
    kinds: ['branches', 'residual block', 'inverted residual', 'squeeze-and-excitation', 'inception module'],
    cover: 0.3,
    requires: ['mixed kernels'],
  },
  { family: 'VGG', kinds: ['conv group'], cover: 0.6, requires: ['all 3×3'] },
  { family: 'plain CNN', kinds: ['conv group'], cover: 0.6, excludes: ['all 3×3'] },
];

// A signature wins clearly when the next best names another family with a share this much smaller.
const CLEAR_MARGIN = 0.15;
// One module holding more than this share of the network means its structure was not understood
// (HRNet's parallel resolutions read as one region): no family is named.
const MAX_BLOCK_SHARE = 0.35;

/**
 * The family of a network from its blocks: the signature that matches with the largest share of the
 * trunk's multiply-adds in its blocks, when it wins clearly; 'CNN' otherwise. `macs` is each row's
 * multiply-adds.
 */
export function detectFamily(blocks: FoundBlock[], facts: RowFacts[], macs: readonly number[]): Family {
  // Shares are of the trunk: the stem before the first block and the head after the last are left out,
  // so that a small network's large stem convolution does not hide what its blocks are.
  const inBlocks = blocks.flatMap((b) => b.rows);
  const [first, last] = [Math.min(...inBlocks), Math.max(...inBlocks)];
  const total = macs.reduce((a, b, r) => (r >= first && r <= last ? a + b : a), 0);
  if (total <= 0) return 'CNN';
  const share = (b: FoundBlock): number => b.rows.reduce((s, r) => s + (macs[r] ?? 0), 0) / total;
  if (blocks.some((b) => share(b) > MAX_BLOCK_SHARE && b.kind === 'branches')) return 'CNN';
  const features = featuresOf(blocks, facts);
  const matches = SIGNATURES.flatMap((sig) => {
    if (sig.requires?.some((f) => !features.has(f))) return [];
    if (sig.excludes?.some((f) => features.has(f))) return [];
    const mine = blocks.filter((b) => sig.kinds.includes(b.kind));
    if (sig.count !== undefined && mine.length !== sig.count) return [];
    const covered = mine.reduce((s, b) => s + share(b), 0);
    return covered >= sig.cover ? [{ family: sig.family, covered }] : [];
  }).sort((a, b) => b.covered - a.covered);
  const [best, next] = matches;
  if (!best) return 'CNN';
  if (next && next.family !== best.family && best.covered - next.covered < CLEAR_MARGIN) return 'CNN';
  return best.family;
}

function featuresOf(blocks: FoundBlock[], facts: RowFacts[]): Set<Feature> {
  const out = new Set<Feature>();
  const rowsOf = (kinds: BlockKind[]): RowFacts[] =>
    blocks.filter((b) => kinds.includes(b.kind)).flatMap((b) => b.rows.map((r) => facts[r]!));
  const activations = new Set(facts.map((f) => f.activation));
  if (blocks.some((b) => b.se !== null)) out.add('se');
  if (activations.has('hardswish') || activations.has('hard sigmoid')) out.add('hardswish');
  if (activations.has('relu6')) out.add('relu6');
  if (activations.has('silu')) out.add('swish');
  if (activations.has('relu')) out.add('relu');
  const depthwise = facts.filter((f) => f.depthwise);
  if (depthwise.length > 0) out.add('depthwise');
  if (depthwise.some((f) => (f.kernel?.[0] ?? 0) > 3)) out.add('large dw');
  if (blocks.some((b) => b.kind === 'Fused-MBConv')) out.add('fused');
  const modules = rowsOf(['inception module', 'branches']);
  if (modules.some((f) => f.depthwise)) out.add('dw in modules');
  if (rowsOf(['inception module']).some((f) => f.kernel && f.kernel[0] !== f.kernel[1]))
    out.add('factorised');
  // A conv head on the pooled 7×7 (timm's VGG pre-logits) is the classifier's, not a conv group's.
  const groups = rowsOf(['conv group']).filter((f) => f.weighted && f.kernel && spatialOutput(f));
  if (groups.length > 0 && groups.every((f) => f.kernel!.join('×') === '3×3')) out.add('all 3×3');
  const bottlenecks = blocks.filter((b) => b.kind === 'bottleneck');
  const mids = bottlenecks.map((b) => midConv(b, facts));
  if (mids.some((f) => f !== undefined && f.group > 1)) out.add('grouped');
  const ratios = bottlenecks.map((b, i) => (facts[b.last]!.out?.[1] as number) / (mids[i]?.cout ?? 1));
  // Wide ResNet-50-2 and -101-2: ResNet-50's output widths (256 first) with twice its middle widths.
  const firstOut = bottlenecks[0] ? facts[bottlenecks[0].last]!.out?.[1] : undefined;
  if (ratios.length > 0 && ratios.every((r) => r === 2) && firstOut === 256) out.add('wide');
  const mixed = blocks.some((b) => {
    const rows = b.rows.map((r) => facts[r]!);
    const kernels = new Set(rows.filter((f) => f.depthwise).map((f) => f.kernel?.join('×')));
    return kernels.size >= 2 && rows.some((f) => f.op === 'Split') && rows.some((f) => f.op === 'Concat');
  });
  if (mixed) out.add('mixed kernels');
  if (blocks.some((b) => b.partial !== undefined)) out.add('cross-stage partial');
  if (blocks.some((b) => b.partial === 'c2f')) out.add('c2f');
  if (aggregates(facts)) out.add('aggregation');
  for (const [feature, shows] of Object.entries(RESIDUAL_PATTERNS)) {
    const residual = blocks.filter((b) => b.kind === 'residual block');
    const showing = residual.filter((b) =>
      shows(
        b.rows.map((r) => facts[r]!),
        b,
      ),
    );
    if (residual.length > 0 && showing.length * 2 >= residual.length) out.add(feature as Feature);
  }
  return out;
}

/**
 * Whether some concatenation takes the outputs of two or more residual additions and feeds only a 1×1
 * convolution: an aggregation node of a deep layer aggregation tree.
 */
function aggregates(facts: RowFacts[]): boolean {
  const producerOf = new Map<string, RowFacts>();
  for (const f of facts) for (const t of f.row.outputs) producerOf.set(t, f);
  const readers = new Map<string, RowFacts[]>();
  for (const f of facts) for (const t of f.row.inputs) readers.set(t, [...(readers.get(t) ?? []), f]);
  const sum = (q: RowFacts | undefined): boolean =>
    q !== undefined && (q.op === 'Add' || q.row.after.some((u) => u.op === 'Add'));
  return facts.some((f) => {
    if (f.op !== 'Concat') return false;
    const next = f.row.outputs.flatMap((t) => readers.get(t) ?? []);
    const sums = f.row.inputs.filter((t) => sum(producerOf.get(t)));
    return sums.length >= 2 && next.length === 1 && next[0]!.weighted && is1x1(next[0]!);
  });
}

const is1x1 = (f: RowFacts): boolean => f.kernel?.join('×') === '1×1' && !f.depthwise;
const is3x3 = (f: RowFacts): boolean => f.kernel?.join('×') === '3×3' && !f.depthwise;

/** How a residual block's rows (in graph order) show each pattern. */
const RESIDUAL_PATTERNS: Partial<Record<Feature, (rows: RowFacts[], block: FoundBlock) => boolean>> = {
  'separable residual': (rows) => {
    const convs = rows.filter((f) => f.weighted);
    const dw = convs.filter((f) => f.depthwise);
    // Every depthwise convolution is followed by a 1×1 (the projection shortcut may sit anywhere).
    return (
      dw.length >= 2 &&
      convs[0]?.depthwise === true &&
      convs.every((f, i) => !f.depthwise || (convs[i + 1] !== undefined && is1x1(convs[i + 1]!)))
    );
  },
  // Side by side: one of the two is on the shortcut.
  repvgg: (rows, block) => {
    const convs = rows.filter((f) => f.weighted);
    const beside = block.rows.some((r) => block.parts.get(r)?.part === 'projection');
    return beside && convs.length === 2 && convs.some(is1x1) && convs.some(is3x3);
  },
  'hierarchical split': (rows) =>
    rows.some((f) => f.op === 'Split') &&
    rows.some((f) => f.op === 'Concat') &&
    rows.filter(is3x3).length >= 2,
  'darknet residual': (rows, block) => {
    const convs = rows.filter((f) => f.weighted);
    return block.shortcut === 'identity' && convs.length === 2 && is1x1(convs[0]!) && is3x3(convs[1]!);
  },
  'inception residual': (rows) => {
    const convs = rows.filter((f) => f.weighted);
    return (
      rows.some((f) => f.op === 'Concat') &&
      !rows.some((f) => f.op === 'Split' || f.depthwise) &&
      convs.length >= 3 &&
      is1x1(convs.at(-1)!)
    );
  },
  'selective kernel': (rows) => {
    // Two or more k×k convolutions (kernels or dilations differ) side by side, joined for the softmax.
    const made = new Map(rows.flatMap((f) => f.row.outputs.map((t) => [t, f] as const)));
    const side = rows.some(
      (f) =>
        f.op === 'Concat' &&
        f.row.inputs.filter((t) => {
          const q = made.get(t);
          return q !== undefined && q.weighted && (q.kernel?.[0] ?? 1) > 1;
        }).length >= 2,
    );
    return side && rows.some((f) => f.activation === 'softmax');
  },
  'split attention': (rows) => rows.some((f) => f.activation === 'softmax'),
  ghost: (rows) =>
    !rows.some((f) => f.op === 'Split') &&
    rows.filter((f) => f.op === 'Concat').length >= 2 &&
    rows.some((f) => f.depthwise && f.stride === 1) &&
    rows.some(is1x1),
};

/** Kinds only the family decides: EfficientNetV2's single-convolution residual blocks are Fused-MBConv1. */
export function refineKinds(family: Family, blocks: FoundBlock[], facts: RowFacts[]): void {
  if (family !== 'EfficientNetV2') return;
  for (const b of blocks) {
    const convs = b.rows.filter((r) => facts[r]!.weighted && b.parts.get(r)!.part === 'main');
    if (b.kind !== 'residual block' || convs.length !== 1) continue;
    b.kind = 'Fused-MBConv';
    b.parts.set(convs[0]!, { part: 'expand' });
  }
}

/** The kind shown for a block in a family: EfficientNet and MnasNet call inverted residuals MBConv. */
export function kindIn(family: Family, kind: BlockKind): string {
  const mbconv = ['EfficientNet', 'EfficientNetV2', 'EfficientNet-Lite', 'MnasNet'].includes(family);
  if (kind === 'inverted residual' && mbconv) return 'MBConv';
  return kind;
}

/** The 3×3 of a bottleneck (its second main convolution). */
export function midConv(b: FoundBlock, facts: RowFacts[]): RowFacts | undefined {
  const main = [...b.parts]
    .filter(([r, p]) => p.part === 'main' && facts[r]!.weighted)
    .map(([r]) => facts[r]!);
  return main[1];
}
