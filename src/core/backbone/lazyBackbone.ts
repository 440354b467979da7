/**
 * What every backbone shares: its identity from the spec, where the weights come from, a `load()`
 * that runs once (retried after a failure, refused after `dispose()`), and the embedding size it
 * learns on load, checked against the size the spec declares.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Backbone, BackboneOptions, BackboneSpec, ModelSource } from './types';

/** The spec fields every backbone reads. */
export type BackboneIdentity = Pick<
  BackboneSpec,
  'id' | 'label' | 'url' | 'inputSize' | 'inputRange' | 'embeddingSize'
>;

export abstract class LazyBackbone implements Backbone {
  readonly id: string;
  readonly label: string;
  readonly inputSize: number;
  readonly inputRange: [number, number];
  protected readonly source: ModelSource;
  private readonly declaredSize: number | undefined;
  private size: number;
  private loading: Promise<void> | null = null;
  private disposed = false;

  constructor(spec: BackboneIdentity, options: BackboneOptions = {}) {
    this.id = spec.id;
    this.label = spec.label;
    this.inputSize = spec.inputSize;
    this.inputRange = [spec.inputRange[0], spec.inputRange[1]];
    this.declaredSize = spec.embeddingSize;
    this.size = spec.embeddingSize ?? 0;
    this.source = options.source ?? spec.url;
  }

  get embeddingSize(): number {
    return this.size;
  }

  load(): Promise<void> {
    if (this.disposed) return Promise.reject(new Error(`${this.id}: backbone was disposed`));
    this.loading ??= this.doLoad().catch((err: unknown) => {
      this.loading = null;
      throw err;
    });
    return this.loading;
  }

  /** Fetches and checks the model; calls `publish` last, once nothing can fail any more. */
  protected abstract doLoad(): Promise<void>;

  /**
   * Throws unless `size` (what the loaded model gives; `what` names where it comes from) matches
   * the spec, or if the backbone was disposed while loading. Call it before keeping the model.
   */
  protected checkLoaded(size: number | undefined, what: string): number {
    if (typeof size !== 'number') throw new Error(`${this.id}: embedding size is unknown`);
    if (this.declaredSize !== undefined && this.declaredSize !== size) {
      throw new Error(
        `${this.id}: ${what} gives ${size}-d embeddings, the spec says ${this.declaredSize}`,
      );
    }
    if (this.disposed) throw new Error(`${this.id}: backbone was disposed while loading`);
    return size;
  }

  /** Records the embedding size of the model that was just kept. */
  protected publish(size: number): void {
    this.size = size;
  }

  abstract embed(batch: tf.Tensor4D): tf.Tensor2D;

  /** Subclasses free their model, then call this. */
  dispose(): void {
    this.disposed = true;
  }
}
