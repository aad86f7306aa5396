// Names of stages, blocks and rows, and the compact notation of blocks and stages, as each family's paper
// writes them: conv3_1 and [1×1, 64; 3×3, 64; 1×1, 256] × 3 for ResNets, MBConv6, k5×5, SE 0.25, 40 ch for
// EfficientNet, inception (3a) for GoogLeNet, [d7×7, 96; 1×1, 384; 1×1, 96] for ConvNeXt.
import type { FoundBlock, Part, RowFacts } from './blocks';
import { kindIn, midConv, RESNET_NAMING, type Family } from './family';
import type { StagePlan } from './stages';

/** Stage names: conv1, conv2_x … fc for ResNets; stem, stage1 … head otherwise. */
export function stageNames(plans: StagePlan[], family: Family): string[] {
  let n = RESNET_NAMING.has(family) ? 1 : 0;
  return plans.map((p) => {
    if (p.name !== undefined) return p.name;
    if (RESNET_NAMING.has(family))
      return p.place === 'stem' ? 'conv1' : p.place === 'head' ? 'fc' : `conv${++n}_x`;
    return p.place === 'stem' ? 'stem' : p.place === 'head' ? 'head' : `stage${++n}`;
  });
}

/** Block names within a stage: conv3_1 (ResNet), inception (3a) (GoogLeNet), stage2.1 otherwise. */
export function blockName(family: Family, stage: string, index: number, inceptionStage: number): string {
  if (RESNET_NAMING.has(family)) return `${stage.replace(/_x$/, '')}_${index + 1}`;
  if (family === 'GoogLeNet' && inceptionStage > 0) return `inception (${inceptionStage}${letter(index)})`;
  return `${stage}.${index + 1}`;
}

/** A row's name inside a block. */
export function rowInBlock(block: string, f: RowFacts, part: Part, convnext: boolean): string {
  const conv = convText(f, convnext);
  const what = f.weighted ? conv : f.row.kind === 'pool' ? poolText(f) : joinText(f);
  switch (part.part) {
    case 'main':
      return f.weighted ? `${block} ${letter(part.index)} ${conv}` : `${block} ${what}`;
    case 'projection':
      return `${block} proj ${what}`;
    case 'se':
      return part.step === 'scale'
        ? `${block} SE scale`
        : part.step === 'pool'
          ? `${block} SE ${poolText(f)}`
          : `${block} SE ${part.step} ${conv}`;
    case 'dw':
      return `${block} dw ${kernelText(f, false)}, ${String(f.cout ?? '?')}`;
    case 'expand':
    case 'project':
    case 'squeeze':
      return `${block} ${part.part} ${conv}`;
    case 'split':
      return `${block} channel split`;
    case 'join':
      return `${block} ${what}`;
    case 'branch':
      return `${block} b${part.branch}${part.of > 1 ? ` ${letter(part.index)}` : ''} ${what}`;
  }
}

/** A row's name outside blocks. */
export function looseRow(
  family: Family,
  stage: string,
  place: StagePlan['place'],
  f: RowFacts,
  nth: number,
): string {
  const resnet = RESNET_NAMING.has(family);
  if (f.row.kind === 'pool') return resnet || place === 'head' ? poolText(f) : `${stage} ${poolText(f)}`;
  if (f.weighted && (f.op === 'Gemm' || (f.op === 'MatMul' && place === 'head')))
    return `fc ${String(f.cout ?? '?')}`;
  if (f.weighted) {
    const part = nth > 0 ? ` ${letter(nth - 1)}` : '';
    return `${stage}${part} ${convText(f, false)}`;
  }
  return `${stage} ${joinText(f)}`;
}

/**
 * A post-processing row by what it computes: 'DFL expectation over 16 bins' for the fixed 1×1 after a
 * softmax, else its ops in order ('slice → sub', 'concat'), reshapes and transposes left out.
 */
export function postRow(stage: string, f: RowFacts): string {
  const units = [...f.row.before, f.row.anchor, ...f.row.after];
  if (f.weighted && units.some((u) => u.op === 'Softmax'))
    return `${stage} DFL expectation over ${String(f.cin ?? '?')} bins`;
  const ops = units.filter((u) => u === f.row.anchor || u.kind !== 'layout').map((u) => u.op.toLowerCase());
  return `${stage} ${ops.join(' → ')}`;
}

/** The compact notation of one block. */
export function blockNotation(family: Family, b: FoundBlock, facts: RowFacts[]): string {
  const rows = (pred: (p: Part) => boolean): RowFacts[] =>
    b.rows.filter((r) => pred(b.parts.get(r)!)).map((r) => facts[r]!);
  const main = rows((p) => p.part === 'main').filter((f) => f.weighted);
  const out = facts[b.last]!.out?.[1];
  const ch = `${String(out ?? '?')} ch`;
  switch (b.kind) {
    case 'basic':
    case 'bottleneck':
      return `[${main.map((f) => desc(f, family === 'ResNeXt' && f.group > 1 ? `, C=${f.group}` : '')).join('; ')}]`;
    case 'residual block':
      return `residual [${main.map((f) => desc(f)).join('; ')}]`;
    case 'SPPF': {
      const pools = rows((p) => p.part === 'main');
      return `SPPF [${pools.length} × ${kernelText(pools[0]!, false)} max pool] → ${ch}`;
    }
    case 'resolution branch': {
      const out = facts[b.last]!.out;
      return `branch at ${String(out?.[2] ?? '?')}×${String(out?.[3] ?? '?')}, ${ch}: ${main.length} layers`;
    }
    case 'dual path block':
      return `dual path [${main.map((f) => desc(f, f.group > 1 ? `, G=${f.group}` : '')).join('; ')}]`;
    case 'X block':
    case 'Y block': {
      const mid = midConv(b, facts);
      const g = mid && mid.cout ? `, g=${mid.cout / mid.group}` : '';
      const parts = main.map((f) => desc(f, f === mid ? g : ''));
      if (b.se) parts.splice(2, 0, `SE ${seRatio(b, facts)}`);
      return `${b.kind} [${parts.join('; ')}]`;
    }
    case 'ConvNeXt block':
      return `[${main.map((f, i) => (i === 0 ? `d${kernelText(f, false)}, ${String(f.cout)}` : `1×1, ${String(f.cout)}`)).join('; ')}]`;
    case 'inverted residual':
    case 'Fused-MBConv':
      return invertedNotation(family, b, facts, ch);
    case 'depthwise separable':
      return `dw ${kernelText(rows((p) => p.part === 'dw')[0]!, false)} + 1×1, ${ch}`;
    case 'fire module': {
      const sq = rows((p) => p.part === 'squeeze')[0]!;
      const ex = b.branches.map((br) => desc(facts[br[0]!]!)).join(' | ');
      return `fire [${desc(sq)}; ${ex}]`;
    }
    case 'ASPP': {
      const rates = b.branches.map((br) => Math.max(...br.map((r) => facts[r]!.dilation ?? 1)));
      return `ASPP [rates ${rates.join(', ')}] → ${ch}`;
    }
    case 'inception module':
    case 'branches': {
      const kind = b.kind === 'inception module' ? 'inception' : 'branches';
      return `${kind} [${b.branches.map((br) => br.map((r) => brief(facts[r]!)).join(' → ')).join(' | ')}] → ${ch}`;
    }
    case 'ShuffleNet V2 unit': {
      const strided = b.rows.some((r) => facts[r]!.stride > 1);
      return `ShuffleNet V2 unit${strided ? ' s2' : ''}, ${ch}`;
    }
    case 'dense layer':
      return `dense layer [${main.map((f) => desc(f)).join('; ')}]`;
    case 'transition':
      return `transition [${b.rows.map((r) => brief(facts[r]!)).join('; ')}]`;
    case 'squeeze-and-excitation':
      return `SE ${seRatio(b, facts)}`;
    case 'top-down':
    case 'bottom-up':
      return `${b.kind} [${b.rows.map((r) => brief(facts[r]!)).join(' → ')}] → ${ch}`;
    case 'head branch':
    case 'prototypes': {
      const chains = b.branches.length > 0 ? b.branches : [b.rows];
      return `[${chains.map((br) => br.map((r) => brief(facts[r]!)).join(' → ')).join(' | ')}]`;
    }
    case 'conv group': {
      const all = b.rows.map((r) => desc(facts[r]!));
      if (all.length === 1) return all[0]!;
      return all.every((d) => d === all[0]) ? `[${all[0]!}] × ${all.length}` : `[${all.join('; ')}]`;
    }
  }
}

/** Paper notation of an inverted residual: MBConv6, k5×5, SE 0.25, 40 ch / bottleneck t=6, 24 ch / bneck … */
function invertedNotation(family: Family, b: FoundBlock, facts: RowFacts[], ch: string): string {
  const of = (part: string): RowFacts | undefined =>
    b.rows.map((r) => facts[r]!).find((f) => b.parts.get(f.row.index)!.part === part);
  const expand = of('expand');
  const dw = of('dw') ?? expand;
  const cin = (expand ?? dw)?.cin ?? null;
  const mid = dw?.cout ?? null;
  const t = cin && mid && expand ? Math.round((mid / cin) * 100) / 100 : 1;
  const k = dw ? `k${kernelText(dw, false)}` : '';
  const se = b.se ? `, SE ${seRatio(b, facts)}` : '';
  const name = kindIn(family, b.kind);
  if (family === 'MobileNet V2') return `bottleneck t=${t}, ${ch}`;
  if (family === 'MobileNet V3') {
    const act = dw?.activation === 'hardswish' ? 'HS' : 'RE';
    return `bneck ${k}, exp ${String(mid ?? '?')}${b.se ? ', SE' : ''}, ${act}, ${ch}`;
  }
  const prefix =
    name === 'Fused-MBConv' ? 'Fused-MBConv' : name === 'MBConv' ? 'MBConv' : 'inverted residual t=';
  return `${prefix}${t}, ${k}${se}, ${ch}`;
}

/** Squeeze channels over the block's input channels, as EfficientNet's se_ratio. */
function seRatio(b: FoundBlock, facts: RowFacts[]): string {
  if (!b.se) return '';
  const reduce = facts[b.se.reduce]!.cout;
  const first = facts[b.rows[0]!]!;
  const cin = first.cin;
  return reduce && cin ? String(Math.round((reduce / cin) * 1000) / 1000) : '?';
}

/** '3×3, 64' for a convolution (with a suffix such as ', C=32'). */
export function desc(f: RowFacts, suffix = ''): string {
  return `${kernelText(f, true)}, ${String(f.cout ?? '?')}${suffix}`;
}

/** A row in a few characters, for notations: '1×1, 64', 'max pool 3×3', 'concat'. */
function brief(f: RowFacts): string {
  if (f.weighted && !f.kernel && /Gemm|MatMul/.test(f.op)) return `fc ${String(f.cout ?? '?')}`;
  if (f.weighted) return desc(f);
  if (f.row.kind === 'pool') return poolText(f) + (f.stride > 1 ? `, stride ${f.stride}` : '');
  return joinText(f);
}

/** 'conv 3×3, 64' style text for a weighted row: kernel and output channels. */
export function convText(f: RowFacts, convnext: boolean): string {
  if ((f.op === 'MatMul' || f.op === 'Gemm') && !convnext) return `fc ${String(f.cout ?? '?')}`;
  return `${kernelText(f, true)}, ${String(f.cout ?? '?')}`;
}

function kernelText(f: RowFacts, markDepthwise: boolean): string {
  const k = f.kernel ? f.kernel.join('×') : '1×1';
  return markDepthwise && f.depthwise ? `dw ${k}` : k;
}

/** 'max pool 3×3', 'global avg pool'. */
export function poolText(f: RowFacts): string {
  const kind = /Max/.test(f.op) ? 'max' : /Lp/.test(f.op) ? 'Lp' : 'avg';
  const global = /Global|Reduce/.test(f.op);
  return global || !f.kernel ? `global ${kind} pool` : `${kind} pool ${f.kernel.join('×')}`;
}

function joinText(f: RowFacts): string {
  if (f.op === 'Concat') {
    const shuffle = f.row.after.some((u) => u.op === 'Transpose');
    return shuffle ? 'concat + channel shuffle' : 'concat';
  }
  if (f.op === 'Add' || f.op === 'Sum') return 'add';
  if (f.op === 'Mul') return 'multiply';
  if (f.op === 'Split') return 'channel split';
  return f.op;
}

/** a, b, c, … */
export function letter(i: number): string {
  return i < 26 ? String.fromCharCode(97 + i) : `x${i}`;
}
