// Which family a network belongs to, from the kinds of its blocks and how their layers look.
import type { BlockKind, FoundBlock, RowFacts } from './blocks';

/** Families recognised, as their papers name them; 'CNN' when none fits. */
export type Family =
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
  | 'MnasNet'
  | 'DenseNet'
  | 'GoogLeNet'
  | 'Inception v3'
  | 'SqueezeNet'
  | 'ShuffleNet V2'
  | 'ConvNeXt'
  | 'VGG'
  | 'plain CNN'
  | 'CNN';

/** Families whose stages and blocks keep the ResNet paper's names (conv2_x, conv3_1, …). */
export const RESNET_NAMING: ReadonlySet<Family> = new Set(['ResNet', 'ResNeXt', 'Wide ResNet']);

/** The family of a network from its blocks. */
export function detectFamily(blocks: FoundBlock[], facts: RowFacts[]): Family {
  const count = (k: BlockKind): number => blocks.filter((b) => b.kind === k).length;
  const rowsOf = (kinds: BlockKind[]): RowFacts[] =>
    blocks.filter((b) => kinds.includes(b.kind)).flatMap((b) => b.rows.map((r) => facts[r]!));
  if (count('dense layer') > 0) return 'DenseNet';
  if (count('ShuffleNet V2 unit') > 0) return 'ShuffleNet V2';
  if (count('fire module') > 0) return 'SqueezeNet';
  if (count('ConvNeXt block') > 0) return 'ConvNeXt';
  if (count('inception module') > 0) {
    const factorised = rowsOf(['inception module']).some((f) => f.kernel && f.kernel[0] !== f.kernel[1]);
    return factorised ? 'Inception v3' : 'GoogLeNet';
  }
  if (count('Y block') > 0) return 'RegNetY';
  if (count('X block') > 0) return 'RegNetX';
  const inverted = count('inverted residual');
  if (inverted > 0 && inverted >= count('bottleneck') + count('basic')) {
    const rows = rowsOf(['inverted residual', 'Fused-MBConv']);
    const se = blocks.some((b) => b.se !== null);
    const hard = rows.some((f) => f.activation === 'hardswish' || f.activation === 'hard sigmoid');
    if (se && hard) return 'MobileNet V3';
    if (se) return count('Fused-MBConv') > 0 ? 'EfficientNetV2' : 'EfficientNet';
    if (rows.some((f) => f.activation === 'relu6')) return 'MobileNet V2';
    return 'MnasNet';
  }
  if (count('depthwise separable') > 0) return 'MobileNet V1';
  const bottlenecks = blocks.filter((b) => b.kind === 'bottleneck');
  if (bottlenecks.length + count('basic') > 0) {
    const mids = bottlenecks.map((b) => midConv(b, facts)).filter((f): f is RowFacts => f !== undefined);
    if (mids.some((f) => f.group > 1)) return 'ResNeXt';
    const ratios = bottlenecks.map(
      (b) => (facts[b.last]!.out?.[1] as number) / (midConv(b, facts)?.cout ?? 1),
    );
    if (ratios.length > 0 && ratios.every((r) => r === 2)) return 'Wide ResNet';
    return 'ResNet';
  }
  if (count('conv group') > 0 && blocks.every((b) => b.kind === 'conv group')) {
    const convs = rowsOf(['conv group']);
    return convs.every((f) => f.kernel?.join('×') === '3×3') ? 'VGG' : 'plain CNN';
  }
  return 'CNN';
}

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
  const mbconv = family === 'EfficientNet' || family === 'EfficientNetV2' || family === 'MnasNet';
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
