// Backward rules of element-wise ops. Activations mask or scale the gradient with values the forward pass
// computed; binary ops sum the gradient back over the axes they broadcast.
import { NotSupported } from './emitter';
import type { Rule, Step } from './step';

// At a kink (x exactly at a bound) the gradient is taken as 0, as PyTorch's ReLU and ReLU6 do.
const relu: Rule = (s) => {
  const e = s.e;
  return [e.keep(e.op('Greater', [s.y(0), e.scalar(0)]), s.g, `${s.node.name}/dX`)];
};

const leakyRelu: Rule = (s) => {
  const e = s.e;
  const slope = e.op('Mul', [s.g, e.scalar(s.attr('alpha', 0.01))]);
  const positive = e.op('Greater', [s.x(0), e.scalar(0)]);
  return [e.op('Where', [positive, s.g, slope], [], `${s.node.name}/dX`)];
};

// Bounds are inputs 1 and 2 in the gradient model (older opsets' attributes become inputs there).
const clip: Rule = (s) => {
  s.only([0], 'bound');
  const e = s.e;
  const masks: string[] = [];
  if (s.x(1) !== '') masks.push(e.op('Greater', [s.x(0), s.x(1)]));
  if (s.x(2) !== '') masks.push(e.op('Less', [s.x(0), s.x(2)]));
  if (masks.length === 0) return [s.g];
  const inside = masks.length === 2 ? e.op('And', [masks[0]!, masks[1]!]) : masks[0]!;
  return [e.keep(inside, s.g, `${s.node.name}/dX`)];
};

// σ'(x) = y·(1 − y).
const sigmoid: Rule = (s) => {
  const e = s.e;
  const slope = e.op('Mul', [s.y(0), e.op('Sub', [e.scalar(1), s.y(0)])]);
  return [e.op('Mul', [s.g, slope], [], `${s.node.name}/dX`)];
};

// y = max(0, min(1, αx + β)): slope α where 0 < y < 1.
const hardSigmoid: Rule = (s) => {
  const e = s.e;
  const inside = e.op('And', [e.op('Greater', [s.y(0), e.scalar(0)]), e.op('Less', [s.y(0), e.scalar(1)])]);
  return [e.keep(inside, e.op('Mul', [s.g, e.scalar(s.attr('alpha', 0.2))]), `${s.node.name}/dX`)];
};

// y = x·max(0, min(1, x/6 + 1/2)): slope 0 below −3, x/3 + 1/2 between, 1 above 3.
const hardSwish: Rule = (s) => {
  const e = s.e;
  const x = s.x(0);
  const ramp = e.op('Add', [e.op('Mul', [x, e.scalar(1 / 3)]), e.scalar(0.5)]);
  const low = e.op('Where', [e.op('Greater', [x, e.scalar(-3)]), ramp, e.scalar(0)]);
  const slope = e.op('Where', [e.op('Less', [x, e.scalar(3)]), low, e.scalar(1)]);
  return [e.op('Mul', [s.g, slope], [], `${s.node.name}/dX`)];
};

/** The gradient of a broadcasting binary op's input i, given the gradient at its output's shape. */
function toInput(s: Step, i: number, g: string): string | undefined {
  return s.onPath(i) ? s.e.reduceTo(g, s.outShape(0), s.inShape(i)) : undefined;
}

const add: Rule = (s) => [toInput(s, 0, s.g), toInput(s, 1, s.g)];

const sub: Rule = (s) => [toInput(s, 0, s.g), s.onPath(1) ? toInput(s, 1, s.e.op('Neg', [s.g])) : undefined];

// Product rule: d(a·b) = da·b + a·db (squeeze-and-excitation's x·gate, SiLU's x·σ(x)).
const mul: Rule = (s) => {
  const e = s.e;
  return [0, 1].map((i) =>
    s.onPath(i) ? toInput(s, i, e.op('Mul', [s.g, s.x(1 - i)], [], `${s.node.name}/d${i}`)) : undefined,
  );
};

const div: Rule = (s) => {
  if (s.onPath(1)) throw new NotSupported('it divides by a tensor computed from A');
  return [toInput(s, 0, s.e.op('Div', [s.g, s.x(1)], [], `${s.node.name}/dX`))];
};

const pass: Rule = (s) => [s.g];

// A QuantizeLinear → DequantizeLinear pair (int8 QDQ models) passes the gradient straight through where
// quantization kept the value, as quantization-aware training does, and stops it where the value was
// clamped to the range (which is also where the ReLUs the quantizer absorbed switched off):
// DequantizeLinear scales the gradient by the scale, QuantizeLinear divides it back and masks it.
const quantizeLinear: Rule = (s) => {
  s.only([0], 'scale or zero point');
  if (s.inShape(1).length > 0) throw new NotSupported('its scale is per channel');
  const e = s.e;
  const float = (t: string): string => e.op('Cast', [t], [{ name: 'to', type: 2, i: 1 }]);
  const level = e.op('Sub', [float(s.y(0)), s.x(2) !== '' ? float(s.x(2)) : e.scalar(0)]);
  const error = e.op('Abs', [e.op('Sub', [e.op('Mul', [level, s.x(1)]), s.x(0)])]);
  const kept = e.op('LessOrEqual', [error, e.op('Mul', [s.x(1), e.scalar(0.5001)])]);
  return [e.keep(kept, e.op('Div', [s.g, s.x(1)]), `${s.node.name}/dX`)];
};

const dequantizeLinear: Rule = (s) => {
  s.only([0], 'scale or zero point');
  if (s.inShape(1).length > 0) throw new NotSupported('its scale is per channel');
  return [s.e.op('Mul', [s.g, s.x(1)], [], `${s.node.name}/dX`)];
};

/** Rules of the element-wise ops, by op. */
export const POINTWISE: Record<string, Rule> = {
  Relu: relu,
  LeakyRelu: leakyRelu,
  Clip: clip,
  Sigmoid: sigmoid,
  HardSigmoid: hardSigmoid,
  HardSwish: hardSwish,
  Add: add,
  Sub: sub,
  Mul: mul,
  Div: div,
  Identity: pass,
  Dropout: pass,
  QuantizeLinear: quantizeLinear,
  DequantizeLinear: dequantizeLinear,
};
