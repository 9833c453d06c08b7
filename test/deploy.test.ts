/**
 * deploy/: compose.yaml, haproxy.cfg, Dockerfile and the Kubernetes manifests, checked without
 * Docker or a cluster (neither runs here): the YAML parses; every rewardkit command in them is a real
 * command whose flags exist and whose values parse (commander, as the CLI parses them); the specs
 * they serve compile; Redis URLs name the Redis service; HAProxy targets the servers' port; every
 * Kubernetes object has its apiVersion, kind and required fields, selectors match their pods,
 * autoscalers target a Deployment of the manifests; the queue key the workers' autoscaler watches is
 * the one BullMQ really fills (checked against a real Redis when redis-server is installed).
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { Redis } from 'ioredis';
import { Queue } from 'bullmq';
import type { Command } from 'commander';
import { buildProgram } from '../src/cli/main.js';
import { compileSpecFile } from '../src/spec/compile.js';
import { QUEUE_NAME } from '../src/cli/queue.js';
import { SANDBOX_QUEUE } from '../src/graders/code/remote.js';
import { BACKEND_QUEUE } from '../src/backends/remote.js';
import { freePort, haveRedisServer, startRedis } from './redis.js';

const ROOT = join(import.meta.dirname, '..');
const DEPLOY = join(ROOT, 'deploy');
const IMAGE = 'rewardkit:latest';

/**
 * Parses one rewardkit invocation (`[command, ...flags]`) as the CLI would, without running it:
 * throws on an unknown command, an unknown flag, a value its parser refuses, a missing required
 * option or a stray operand. Returns the command's parsed option values.
 */
async function parseInvocation(args: string[]): Promise<Record<string, unknown>> {
  const [name, ...rest] = args;
  const program = await buildProgram(name);
  const cmd = program.commands.find((c) => c.name() === name);
  if (!cmd) throw new Error(`"${name}" is not a rewardkit command (${program.commands.map((c) => c.name()).join(', ')})`);
  cmd.configureOutput({ writeErr: () => {}, writeOut: () => {} });
  const { operands, unknown } = cmd.parseOptions(rest);
  if (unknown.length > 0) throw new Error(`rewardkit ${name}: unknown option(s) ${unknown.join(' ')}`);
  if (operands.length > 0) throw new Error(`rewardkit ${name}: unexpected argument(s) ${operands.join(' ')}`);
  for (const o of (cmd as Command & { options: { mandatory: boolean; long?: string; attributeName(): string }[] }).options)
    if (o.mandatory && cmd.getOptionValue(o.attributeName()) === undefined) throw new Error(`rewardkit ${name}: missing required option ${o.long}`);
  return cmd.opts();
}

/** `/app/x/y.yaml` in the image is `x/y.yaml` of this repository (Dockerfile: WORKDIR /app, COPY . .). */
function repoPath(imagePath: string): string {
  expect(imagePath.startsWith('/app/'), `${imagePath} is a path in the image (/app/…)`).toBe(true);
  return join(ROOT, imagePath.slice('/app/'.length));
}

/** Checks a `serve`/`worker` invocation's Redis URLs and specs; returns the parsed options. */
async function checkInvocation(args: string[], redisHosts: string[], where: string): Promise<Record<string, unknown>> {
  let opts: Record<string, unknown>;
  try {
    opts = await parseInvocation(args);
  } catch (e) {
    throw new Error(`${where}: ${(e as Error).message}`);
  }
  for (const key of ['state', 'queue'] as const) {
    const url = opts[key];
    if (typeof url === 'string') expect(redisHosts, `${where}: --${key} ${url} names a Redis service`).toContain(new URL(url).hostname);
  }
  for (const spec of (opts.spec as string[] | undefined) ?? []) {
    const file = repoPath(spec);
    expect(existsSync(file), `${where}: --spec ${spec} is in the image`).toBe(true);
    expect(() => compileSpecFile(file), `${where}: ${spec} compiles`).not.toThrow();
  }
  return opts;
}

describe('the CLI check itself', () => {
  it('refuses an unknown command, an unknown flag, a bad value and a missing required option', async () => {
    await expect(parseInvocation(['serv', '--spec', 'x'])).rejects.toThrow(/"serv" is not a rewardkit command/);
    await expect(parseInvocation(['serve', '--spec', 'x', '--stat', 'redis://r:6379/0'])).rejects.toThrow(/unknown option\(s\) --stat/);
    await expect(parseInvocation(['serve', '--port', 'eighty'])).rejects.toThrow(/port/);
    await expect(parseInvocation(['worker', '--concurrency', '2'])).rejects.toThrow(/missing required option --queue/);
    expect(await parseInvocation(['worker', '--queue', 'redis://r:6379/0', '--concurrency', '3'])).toMatchObject({ queue: 'redis://r:6379/0', concurrency: 3 });
  });
});

describe('deploy/compose.yaml', () => {
  const compose = parse(readFileSync(join(DEPLOY, 'compose.yaml'), 'utf8')) as {
    services: Record<string, { image?: string; build?: { context: string; dockerfile: string }; command?: string[]; environment?: Record<string, string>; depends_on?: Record<string, unknown> | string[]; deploy?: { replicas?: number }; volumes?: string[]; ports?: string[] }>;
    volumes?: Record<string, unknown>;
  };
  const services = compose.services;
  const redisHosts = Object.entries(services)
    .filter(([, s]) => s.image?.startsWith('redis:'))
    .map(([name]) => name);

  it('has Redis, servers, workers and a load balancer; references resolve', () => {
    expect(redisHosts).toEqual(['redis']);
    const rk = Object.entries(services).filter(([, s]) => s.image === IMAGE);
    expect(rk.map(([n]) => n).sort()).toEqual(['server', 'worker']);
    expect(services.server!.deploy?.replicas).toBeGreaterThanOrEqual(2);
    expect(services.worker!.deploy?.replicas).toBeGreaterThanOrEqual(2);
    // The image is built from this repository with deploy/Dockerfile.
    const build = services.server!.build!;
    expect(existsSync(join(DEPLOY, build.context, build.dockerfile))).toBe(true);
    for (const [name, s] of Object.entries(services)) {
      const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
      for (const d of deps) expect(Object.keys(services), `${name} depends on ${d}`).toContain(d);
      for (const v of s.volumes ?? []) {
        const src = v.split(':')[0]!;
        if (src.startsWith('.')) expect(existsSync(join(DEPLOY, src)), `${name} mounts ${src}`).toBe(true);
        else expect(Object.keys(compose.volumes ?? {}), `${name} mounts volume ${src}`).toContain(src);
      }
    }
  });

  it('every rewardkit command is a real command with real flags; specs compile; a non-loopback server has its token', async () => {
    const server = await checkInvocation(services.server!.command!, redisHosts, 'compose server');
    expect(server.state).toBe('redis://redis:6379/0');
    expect(server.queue).toBe('redis://redis:6379/0');
    expect(server.host).toBe('0.0.0.0');
    expect(services.server!.environment?.REWARDKIT_TOKEN).toBeDefined();
    const worker = await checkInvocation(services.worker!.command!, redisHosts, 'compose worker');
    expect(worker.queue).toBe('redis://redis:6379/0');
  });

  it('HAProxy balances over the server service on the port the servers listen on, health-checked on /healthz', async () => {
    const cfg = readFileSync(join(DEPLOY, 'haproxy.cfg'), 'utf8');
    const server = await parseInvocation(services.server!.command!);
    const m = /^\s*server-template\s+\S+\s+\d+\s+([\w-]+):(\d+)\s/m.exec(cfg);
    expect(m, 'a server-template line').not.toBeNull();
    expect(m![1]).toBe('server');
    expect(Number(m![2])).toBe(server.port);
    expect(cfg).toMatch(/option httpchk GET \/healthz/);
    const bind = /^\s*bind\s+:(\d+)/m.exec(cfg)!;
    expect(services.lb!.ports).toContain(`${bind[1]}:${bind[1]}`);
    expect(services.lb!.volumes![0]).toMatch(/^\.\/haproxy\.cfg:\/usr\/local\/etc\/haproxy\/haproxy\.cfg/);
  });

  it('the Dockerfile makes the CLI the entrypoint at /app', () => {
    const df = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8');
    expect(df).toMatch(/^WORKDIR \/app$/m);
    expect(df).toMatch(/^COPY \. \.$/m);
    expect(df).toMatch(/^ENTRYPOINT \["node", "\/app\/bin\/rewardkit\.cjs"\]$/m);
    expect(existsSync(join(ROOT, 'bin/rewardkit.cjs'))).toBe(true);
  });
});

type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; spec?: any };

describe('deploy/k8s', () => {
  const files = readdirSync(join(DEPLOY, 'k8s')).filter((f) => f.endsWith('.yaml'));
  const objects: (K8sObject & { file: string })[] = files.flatMap((file) =>
    parseAllDocuments(readFileSync(join(DEPLOY, 'k8s', file), 'utf8')).map((d) => {
      expect(d.errors, file).toEqual([]);
      return { ...(d.toJS() as K8sObject), file };
    }),
  );
  const of = (kind: string) => objects.filter((o) => o.kind === kind);
  const API: Record<string, string> = { Deployment: 'apps/v1', Service: 'v1', HorizontalPodAutoscaler: 'autoscaling/v2', PersistentVolumeClaim: 'v1' };

  it('every object has a known apiVersion/kind, a DNS-1123 name and its required fields', () => {
    expect(files.sort()).toEqual(['redis.yaml', 'server.yaml', 'worker.yaml']);
    for (const o of objects) {
      expect(API[o.kind], `${o.file}: kind ${o.kind}`).toBeDefined();
      expect(o.apiVersion, `${o.file}: ${o.kind} ${o.metadata?.name}`).toBe(API[o.kind]);
      expect(o.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      expect(o.spec, `${o.file}: ${o.metadata.name} has a spec`).toBeTypeOf('object');
    }
    const names = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(new Set(names).size).toBe(names.length);
    expect(of('Deployment').map((o) => o.metadata.name).sort()).toEqual(['rewardkit-redis', 'rewardkit-server', 'rewardkit-worker']);
    expect(of('HorizontalPodAutoscaler')).toHaveLength(2);
  });

  it('Deployments: selectors match their pods, containers have name and image, volumes and ports resolve', () => {
    for (const d of of('Deployment')) {
      const sel = d.spec.selector.matchLabels as Record<string, string>;
      const podLabels = d.spec.template.metadata.labels as Record<string, string>;
      expect(Object.keys(sel).length).toBeGreaterThan(0);
      for (const [k, v] of Object.entries(sel)) expect(podLabels[k], `${d.metadata.name}: selector ${k}`).toBe(v);
      expect(d.spec.replicas).toBeGreaterThanOrEqual(1);
      const containers = d.spec.template.spec.containers as { name: string; image: string; volumeMounts?: { name: string }[]; ports?: { name: string }[] }[];
      expect(containers.length).toBeGreaterThan(0);
      const volumes = ((d.spec.template.spec.volumes ?? []) as { name: string; persistentVolumeClaim?: { claimName: string } }[]);
      for (const c of containers) {
        expect(c.name).toMatch(/^[a-z0-9-]+$/);
        expect(c.image).toMatch(/\S+:\S+/);
        for (const m of c.volumeMounts ?? []) expect(volumes.map((v) => v.name)).toContain(m.name);
      }
      for (const v of volumes) if (v.persistentVolumeClaim) expect(of('PersistentVolumeClaim').map((p) => p.metadata.name)).toContain(v.persistentVolumeClaim.claimName);
    }
  });

  it('Services select a Deployment\'s pods and target ports its containers name', () => {
    for (const s of of('Service')) {
      const sel = s.spec.selector as Record<string, string>;
      const targets = of('Deployment').filter((d) => Object.entries(sel).every(([k, v]) => d.spec.template.metadata.labels[k] === v));
      expect(targets, `Service ${s.metadata.name} selects one Deployment`).toHaveLength(1);
      const portNames = (targets[0]!.spec.template.spec.containers as { ports?: { name: string }[] }[]).flatMap((c) => (c.ports ?? []).map((p) => p.name));
      for (const p of s.spec.ports as { targetPort: string | number }[]) expect(portNames).toContain(p.targetPort);
    }
  });

  it('rewardkit containers run real commands with real flags, against the Redis Service; specs compile', async () => {
    const redisHosts = of('Service')
      .filter((s) => (s.spec.ports as { port: number }[]).some((p) => p.port === 6379))
      .map((s) => s.metadata.name);
    expect(redisHosts).toEqual(['rewardkit-redis']);
    const seen: string[] = [];
    for (const d of of('Deployment'))
      for (const c of d.spec.template.spec.containers as { image: string; args: string[]; env?: { name: string }[] }[]) {
        if (c.image !== IMAGE) continue;
        const opts = await checkInvocation(c.args, redisHosts, `${d.file} ${d.metadata.name}`);
        seen.push(c.args[0]!);
        if (c.args[0] === 'serve') {
          expect(opts.state).toBe('redis://rewardkit-redis:6379/0');
          expect(opts.queue).toBe('redis://rewardkit-redis:6379/0');
          expect(opts.host).toBe('0.0.0.0');
          expect(c.env?.map((e) => e.name)).toContain('REWARDKIT_TOKEN');
        }
      }
    expect(seen.sort()).toEqual(['serve', 'worker']);
  });

  it('autoscalers target Deployments of the manifests; the workers\' scales on the BullMQ waiting list the exporter watches', () => {
    for (const h of of('HorizontalPodAutoscaler')) {
      const ref = h.spec.scaleTargetRef;
      expect(ref.kind).toBe('Deployment');
      expect(ref.apiVersion).toBe('apps/v1');
      expect(of('Deployment').map((d) => d.metadata.name)).toContain(ref.name);
      expect(h.spec.minReplicas).toBeGreaterThanOrEqual(1);
      expect(h.spec.maxReplicas).toBeGreaterThanOrEqual(h.spec.minReplicas);
      expect(h.spec.metrics.length).toBeGreaterThan(0);
    }
    const workers = of('HorizontalPodAutoscaler').find((h) => h.spec.scaleTargetRef.name === 'rewardkit-worker')!;
    expect(workers.spec.metrics[0].type).toBe('External');
    expect(workers.spec.metrics[0].external.metric.name).toBe('rewardkit_queue_waiting_chunks');
    const exporter = (of('Deployment').find((d) => d.metadata.name === 'rewardkit-redis')!.spec.template.spec.containers as { name: string; args: string[] }[]).find((c) => c.name === 'exporter')!;
    const keys = exporter.args.find((a) => a.startsWith('--check-single-keys='))!.slice('--check-single-keys='.length).split(',');
    expect(keys).toEqual([`db0=bull:${QUEUE_NAME}:wait`, `db0=bull:${SANDBOX_QUEUE}:wait`, `db0=bull:${BACKEND_QUEUE}:wait`]);
    expect(readFileSync(join(DEPLOY, 'k8s/worker.yaml'), 'utf8')).toContain(`redis_key_size{key="bull:${QUEUE_NAME}:wait"}`);
    expect(readFileSync(join(DEPLOY, 'k8s/worker.yaml'), 'utf8')).toContain(`bull:${SANDBOX_QUEUE}:wait`);
    expect(readFileSync(join(DEPLOY, 'k8s/worker.yaml'), 'utf8')).toContain(`bull:${BACKEND_QUEUE}:wait`);
    expect(workers.spec.metrics.map((m: { external: { metric: { name: string } } }) => m.external.metric.name)).toEqual(['rewardkit_queue_waiting_chunks', 'rewardkit_sandbox_waiting_jobs', 'rewardkit_backend_waiting_calls']);
  });

  it.skipIf(!haveRedisServer)('bull:rewardkit-score:wait is the list BullMQ keeps waiting chunks in (real Redis)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rk-deploy-'));
    const redis = await startRedis(await freePort(), dir);
    const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue(QUEUE_NAME, { connection: conn });
    try {
      await queue.add('chunk', { x: 1 });
      await queue.add('chunk', { x: 2 });
      expect(await conn.type(`bull:${QUEUE_NAME}:wait`)).toBe('list');
      expect(await conn.llen(`bull:${QUEUE_NAME}:wait`)).toBe(2);
    } finally {
      await queue.close();
      await conn.quit();
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
