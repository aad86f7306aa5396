// Producer/consumer lookups over an OnnxGraph, distinguishing data edges from weights and constants.
import type { OnnxGraph, OnnxNode } from './onnxGraph';

/** Who produces and who consumes each tensor. */
export class GraphIndex {
  private readonly producer = new Map<string, number>();
  private readonly consumers = new Map<string, number[]>();

  /** Indexes `graph.nodes`; node ids below are indices into that array. */
  constructor(readonly graph: OnnxGraph) {
    graph.nodes.forEach((n, i) => {
      for (const o of n.outputs) this.producer.set(o, i);
      for (const t of n.inputs) {
        if (t === '') continue;
        const list = this.consumers.get(t);
        if (list) list.push(i);
        else this.consumers.set(t, [i]);
      }
    });
  }

  /** The node producing `tensor`, or undefined for graph inputs and initializers. */
  producerOf(tensor: string): number | undefined {
    return this.producer.get(tensor);
  }

  /** Nodes consuming `tensor`, in graph order. */
  consumersOf(tensor: string): number[] {
    return this.consumers.get(tensor) ?? [];
  }

  /** Whether a tensor carries activations (not a weight, not a Constant, not an omitted input). */
  isData(tensor: string): boolean {
    if (tensor === '' || this.graph.initializers.has(tensor)) return false;
    const p = this.producer.get(tensor);
    return p === undefined || this.graph.nodes[p]!.op !== 'Constant';
  }

  /** A node's activation inputs. */
  dataInputs(node: OnnxNode): string[] {
    return node.inputs.filter((t) => this.isData(t));
  }

  /** Whether `tensor` feeds exactly one node (graph outputs do not count: folding is only for display). */
  singleUse(tensor: string): boolean {
    return this.consumersOf(tensor).length === 1;
  }
}
