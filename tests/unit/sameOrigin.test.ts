// The same-origin rule for model fetches: what resolves, what is refused, and that a refused
// fetch never reaches the network.
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  CrossOriginModelError,
  resolveSameOrigin,
  sameOriginFetch,
  sameOriginProblem,
  setAppBaseUrl,
} from '../../src/core/sameOrigin';
import { MODELS_BASE_URL, mobileNetV1Spec, modelUrl } from '../../src/core/backbone/specs';
import { loadLayersModelFrom } from '../../src/core/backbone/layersModel';
import { probeBackbone } from '../../src/core/backbone/registry';

const BASE = 'https://host.example/tools/loupe/';

describe('sameOriginProblem / resolveSameOrigin', () => {
  it('resolves relative paths against the app folder, not the site root', () => {
    expect(resolveSameOrigin('models/a/model.json', BASE)).toBe(
      'https://host.example/tools/loupe/models/a/model.json',
    );
    expect(resolveSameOrigin('./models/a/model.json', BASE)).toBe(
      'https://host.example/tools/loupe/models/a/model.json',
    );
    expect(resolveSameOrigin('/elsewhere/model.json', BASE)).toBe(
      'https://host.example/elsewhere/model.json',
    );
  });

  it('accepts absolute URLs on the same origin', () => {
    expect(sameOriginProblem('https://host.example/m/model.json', BASE)).toBeNull();
  });

  it.each([
    ['another host', 'https://evil.example/model.json'],
    ['another port', 'https://host.example:8443/model.json'],
    ['another scheme', 'http://host.example/tools/loupe/models/a/model.json'],
    ['a protocol-relative URL', '//evil.example/model.json'],
  ])('refuses %s, naming the origin', (_what, url) => {
    const problem = sameOriginProblem(url, BASE);
    expect(problem).toMatch(
      /^Refused to load a model from .*only fetches models from its own origin \(https:\/\/host\.example\)/,
    );
    expect(() => resolveSameOrigin(url, BASE)).toThrow(CrossOriginModelError);
  });

  it.each([
    ['data:', 'data:application/json,{}'],
    ['blob:', 'blob:https://host.example/0a1b2c3d'],
  ])('refuses %s URLs (no relative weight paths; local files come in as files)', (scheme, url) => {
    expect(sameOriginProblem(url, BASE)).toContain(`does not load models from ${scheme} URLs`);
  });

  it('refuses other schemes and malformed URLs', () => {
    expect(sameOriginProblem('file:///etc/passwd', BASE)).toMatch(/http\(s\) only, not file:/);
    expect(sameOriginProblem('http://[bad', BASE)).toMatch(/not a valid URL/);
  });

  it('outside a browser (no app location) passes absolute http(s) and cannot resolve paths', () => {
    expect(sameOriginProblem('http://127.0.0.1:9/m/model.json', null)).toBeNull();
    expect(sameOriginProblem('models/a/model.json', null)).toMatch(/not an absolute URL/);
  });
});

describe('model URLs of specs', () => {
  afterEach(() => {
    setAppBaseUrl(null);
    vi.unstubAllGlobals();
  });

  it('built-in specs are relative to the app; stored root paths map to the same folder', () => {
    expect(MODELS_BASE_URL).toBe('models/');
    setAppBaseUrl(BASE);
    const want = 'https://host.example/tools/loupe/models/mobilenet_v1_0.75_224/model.json';
    expect(modelUrl(mobileNetV1Spec().url)).toBe(want);
    expect(modelUrl('/models/mobilenet_v1_0.75_224/model.json')).toBe(want);
    expect(modelUrl('/models/darknet_tiny_imagenet/model.json')).toBe(
      'https://host.example/tools/loupe/models/darknet_tiny_imagenet/model.json',
    );
    // A root path into any other folder keeps its meaning.
    expect(modelUrl('/models/mine/model.json')).toBe('https://host.example/models/mine/model.json');
  });

  it('refuses a cross-origin model, its probe and a cross-origin fetch before any request', async () => {
    setAppBaseUrl(BASE);
    const fetchSpy = vi.fn(() => Promise.resolve(new Response('{}')));
    vi.stubGlobal('fetch', fetchSpy);
    await expect(
      loadLayersModelFrom('https://evil.example/model.json', 'Custom model', null),
    ).rejects.toThrow(CrossOriginModelError);
    await expect(sameOriginFetch('//evil.example/x.bin')).rejects.toThrow(/Refused to load/);
    const probe = await probeBackbone({ ...mobileNetV1Spec(), url: 'https://evil.example/m.json' });
    expect(probe).toMatchObject({ available: false, fixCommand: null });
    expect(fetchSpy).not.toHaveBeenCalled();

    await sameOriginFetch('models/a/model.json');
    expect(fetchSpy).toHaveBeenCalledWith(
      'https://host.example/tools/loupe/models/a/model.json',
      undefined,
    );
  });
});
