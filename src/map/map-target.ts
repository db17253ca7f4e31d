import { formatTarget, unbracket } from '../checks/remote-endpoint.ts';

/** A check or a journey as the map reads it: its id and name, and the config it was given. */
export interface MapItem {
  id: string;
  name: string;
  kind: string;
  locations: string[];
  /** A check's protocol block sits under its kind (`http: { url }`); a journey has `params`. */
  [block: string]: unknown;
}

/** The service one item talks to, as the map names it: `host[:port]`, else the item's id. */
export interface MapTargetRef {
  id: string;
  /** How it was found: from the settings (`url`, `host`/`port`, `server`), or the item's own id. */
  from: 'settings' | 'item';
}

function hostOfUrl(text: unknown): string | undefined {
  if (typeof text !== 'string' || !/^https?:\/\//i.test(text)) return undefined;
  try {
    // `host` keeps a port that is not the scheme's own: http://a and http://a:80 are one target.
    return new URL(text).host.toLowerCase() || undefined;
  } catch {
    return undefined;
  }
}

function endpointOf(block: Record<string, unknown>): string | undefined {
  const fromUrl = hostOfUrl(block.url);
  if (fromUrl) return fromUrl;
  if (typeof block.host === 'string' && block.host) {
    const host = unbracket(block.host).toLowerCase();
    return typeof block.port === 'number' ? formatTarget(host, block.port) : host;
  }
  // dns: the exact server asked, already `ip[:port]` as configured.
  if (typeof block.server === 'string' && block.server) return block.server.toLowerCase();
  return undefined;
}

/**
 * Where an item goes. A check's protocol block is named after its kind (check-base.ts
 * `checkSchemaOf`), and every socket-level kind names its far end with `url` or
 * `host`/`port` (remote-endpoint.ts), dns with `server`: reading those fields keeps the map
 * free of a per-kind branch (registry.ts is the only one). A journey's target is the host of
 * the first http(s) URL among its params (what it opens first, by the examples' convention),
 * else its own id: a browser may go anywhere, and guessing would draw a false path.
 */
export function targetOf(item: MapItem): MapTargetRef {
  const block = item[item.kind];
  if (block && typeof block === 'object') {
    const endpoint = endpointOf(block as Record<string, unknown>);
    if (endpoint) return { id: endpoint, from: 'settings' };
  }
  const params = item.params;
  if (params && typeof params === 'object') {
    for (const value of Object.values(params as Record<string, unknown>)) {
      const host = hostOfUrl(value);
      if (host) return { id: host, from: 'settings' };
    }
  }
  return { id: item.id, from: 'item' };
}
