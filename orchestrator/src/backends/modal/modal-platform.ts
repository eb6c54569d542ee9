// ModalPlatform: the only file that calls the `modal` client. It resolves the names in a
// ModalSandboxSpec (app, image, volumes, secrets) into Modal objects once per name, creates a
// sandbox and finds its agent tunnel, and wraps terminate / tags / list / poll. Every Modal error
// becomes a SandboxError here (modal-errors.ts). `modal` is imported lazily in connect(), so a
// process that never chooses the Modal backend never loads it, and tests can set MODAL_* first.
// It holds no pool logic; modal-backend.ts does.

import type { App, Image, ModalClient, ModalClientParams, Secret, Volume, SandboxCreateParams, Tunnel } from 'modal';
import { SandboxError } from '../../errors.js';
import { isModalNotFound, toSandboxError } from './modal-errors.js';
import type { ImageRef, ModalSandboxSpec, TunnelMode } from './sandbox-params.js';

type ModalModule = typeof import('modal');

export interface ModalPlatformOptions {
  /** Modal App the sandboxes run in (BERTH_MODAL_APP); created when missing. */
  appName: string;
  /** Modal environment; default: the client's (MODAL_ENVIRONMENT or the profile's). */
  environment?: string;
  /** Passed to `new ModalClient()`; credentials otherwise come from MODAL_TOKEN_ID / _SECRET. */
  clientParams?: ModalClientParams;
  tunnel: TunnelMode;
  /** How long to wait for a new sandbox's tunnel, in ms. Default 50 000 (the client's default). */
  tunnelTimeoutMs?: number;
}

export interface CreatedSandbox {
  sandboxId: string;
  /** Base URL of the agent server through the tunnel. */
  url: string;
}

export class ModalPlatform {
  readonly #modal: ModalModule;
  readonly #client: ModalClient;
  readonly #options: ModalPlatformOptions;
  #app: Promise<App> | null = null;
  // Resolved once per name: repeated creates then cost one RPC (the create) plus tunnels.
  readonly #images = new Map<string, Promise<Image>>();
  readonly #volumes = new Map<string, Promise<Volume>>();
  readonly #secrets = new Map<string, Promise<Secret>>();

  private constructor(modal: ModalModule, client: ModalClient, options: ModalPlatformOptions) {
    this.#modal = modal;
    this.#client = client;
    this.#options = options;
  }

  static async connect(options: ModalPlatformOptions): Promise<ModalPlatform> {
    const modal = await import('modal');
    let client: ModalClient;
    try {
      client = new modal.ModalClient({ ...options.clientParams, ...(options.environment ? { environment: options.environment } : {}) });
    } catch (error) {
      throw toSandboxError(error, 'client setup');
    }
    return new ModalPlatform(modal, client, options);
  }

  async appId(): Promise<string> {
    return (await this.#resolveApp()).appId;
  }

  /** Creates the sandbox and returns it once its agent tunnel is known (not yet healthy). */
  async create(spec: ModalSandboxSpec): Promise<CreatedSandbox> {
    const [app, params] = await Promise.all([this.#resolveApp(), this.#resolveParams(spec)]);
    const image = await this.#resolveImage(spec.image, app);
    let sandboxId: string;
    let tunnels: Record<number, Tunnel>;
    try {
      const sandbox = await this.#client.sandboxes.create(app, image, params);
      sandboxId = sandbox.sandboxId;
      try {
        tunnels = await sandbox.tunnels(this.#options.tunnelTimeoutMs ?? 50_000);
      } catch (error) {
        // A sandbox whose tunnel never came is unusable; never leave it running unowned.
        await this.terminate(sandboxId).catch(() => undefined);
        throw error;
      }
    } catch (error) {
      throw toSandboxError(error, 'sandbox create');
    }
    const tunnel = tunnels[spec.readiness.tcpPort];
    try {
      if (!tunnel) throw new SandboxError('start_failed', `Modal: sandbox ${sandboxId} has no tunnel for port ${spec.readiness.tcpPort}`);
      return { sandboxId, url: tunnelUrl(tunnel, this.#options.tunnel) };
    } catch (error) {
      await this.terminate(sandboxId).catch(() => undefined);
      throw toSandboxError(error, 'sandbox tunnel');
    }
  }

  /** Terminates; an already-gone sandbox is not an error (release and sweep are idempotent). */
  async terminate(sandboxId: string): Promise<void> {
    try {
      const sandbox = await this.#client.sandboxes.fromId(sandboxId);
      await sandbox.terminate();
    } catch (error) {
      if (isModalNotFound(error)) return;
      throw toSandboxError(error, 'sandbox terminate');
    }
  }

  /** Replaces the sandbox's whole tag set (Modal has no partial update). */
  async setTags(sandboxId: string, tags: Record<string, string>): Promise<void> {
    try {
      await (await this.#client.sandboxes.fromId(sandboxId)).setTags(tags);
    } catch (error) {
      throw toSandboxError(error, 'sandbox setTags');
    }
  }

  async getTags(sandboxId: string): Promise<Record<string, string>> {
    try {
      return await (await this.#client.sandboxes.fromId(sandboxId)).getTags();
    } catch (error) {
      throw toSandboxError(error, 'sandbox getTags');
    }
  }

  /** Ids of the app's running sandboxes carrying all `tags` (Modal filters server-side). */
  async list(tags: Record<string, string>): Promise<string[]> {
    const appId = await this.appId();
    const ids: string[] = [];
    try {
      for await (const sandbox of this.#client.sandboxes.list({ appId, tags })) ids.push(sandbox.sandboxId);
    } catch (error) {
      throw toSandboxError(error, 'sandbox list');
    }
    return ids;
  }

  close(): void {
    this.#client.close();
  }

  #resolveApp(): Promise<App> {
    this.#app ??= this.#client.apps.fromName(this.#options.appName, { createIfMissing: true }).catch((error: unknown) => {
      this.#app = null; // a failed lookup is retried by the next call
      throw toSandboxError(error, `app lookup '${this.#options.appName}'`);
    });
    return this.#app;
  }

  #resolveImage(ref: ImageRef, app: App): Promise<Image> {
    const key = `${ref.kind}:${ref.kind === 'named' ? ref.name : ref.tag}`;
    return cached(this.#images, key, async () => {
      try {
        const image = ref.kind === 'named' ? await this.#client.images.fromName(ref.name) : this.#client.images.fromRegistry(ref.tag);
        // Build (or look up) once, so each create skips ImageGetOrCreate.
        return await image.build(app);
      } catch (error) {
        throw toSandboxError(error, `image ${key}`);
      }
    });
  }

  async #resolveParams(spec: ModalSandboxSpec): Promise<SandboxCreateParams> {
    const volumes: Record<string, Volume> = {};
    for (const [mountPath, name] of Object.entries(spec.volumes)) {
      volumes[mountPath] = await cached(this.#volumes, name, () => this.#client.volumes.fromName(name).catch((e: unknown) => Promise.reject(toSandboxError(e, `volume '${name}'`))));
    }
    const secrets = await Promise.all(
      spec.secrets.map((name) => cached(this.#secrets, name, () => this.#client.secrets.fromName(name).catch((e: unknown) => Promise.reject(toSandboxError(e, `secret '${name}'`))))),
    );
    let readinessProbe;
    try {
      readinessProbe = this.#modal.Probe.withTcp(spec.readiness.tcpPort);
    } catch (error) {
      throw toSandboxError(error, 'readiness probe');
    }
    return { ...spec.params, volumes, secrets, readinessProbe };
  }
}

/** Memoises a lookup; a failed one is forgotten so the next call retries it. */
function cached<T>(map: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
  let promise = map.get(key);
  if (!promise) {
    promise = load();
    map.set(key, promise);
    promise.catch(() => map.delete(key));
  }
  return promise;
}

function tunnelUrl(tunnel: Tunnel, mode: TunnelMode): string {
  if (mode === 'encrypted') return tunnel.url;
  const [host, port] = tunnel.tcpSocket;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
