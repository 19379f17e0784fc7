import { type Attributes, type Context, TraceFlags, trace } from "@opentelemetry/api";
import { type Sampler, SamplingDecision, type SamplingResult } from "@opentelemetry/sdk-trace";

/**
 * Head sampling by ratio, with every span still recorded so that failures can be kept (error-tail.ts).
 *
 * - A parent that was sampled (here or in the calling process) keeps its children sampled: traces are whole.
 * - A new trace is sampled when its trace id falls under the ratio. The decision is a function of the trace id
 *   alone, so the API and a worker decide alike for the same trace even without a parent flag.
 * - Everything else is RECORD (recorded, not sampled): the span processor buffers it per trace and exports it
 *   only when that trace's work fails.
 */
export class RatioOrRecordSampler implements Sampler {
  private readonly bound: number;
  constructor(private readonly ratio: number) {
    this.bound = Math.floor(Math.max(0, Math.min(1, ratio)) * 0xffffffff);
  }

  shouldSample(context: Context, traceId: string): SamplingResult {
    const parent = trace.getSpanContext(context);
    if (parent && (parent.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED) {
      return { decision: SamplingDecision.RECORD_AND_SAMPLED };
    }
    if (this.sampledByRatio(traceId)) return { decision: SamplingDecision.RECORD_AND_SAMPLED };
    return { decision: SamplingDecision.RECORD };
  }

  private sampledByRatio(traceId: string): boolean {
    if (this.ratio >= 1) return true;
    if (this.ratio <= 0) return false;
    // The last 8 hex digits are random in every W3C trace id (the first ones may carry a timestamp elsewhere).
    return Number.parseInt(traceId.slice(-8), 16) < this.bound;
  }

  toString(): string {
    return `RatioOrRecordSampler{${this.ratio}}`;
  }
}

export type { Attributes };
