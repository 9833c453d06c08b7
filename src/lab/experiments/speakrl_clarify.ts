/**
 * `speakrl-clarify` — a SpeakRL-style clarification reward in the multi-turn tool toy with ambiguous tasks.
 *
 * Paper: "SpeakRL: Synergizing Reasoning, Speaking, and Acting in Language Models with Reinforcement
 * Learning". Claim: rewarding clarifying questions only when they are needed teaches the agent to
 * ask on ambiguous tasks (raising task completion) without extra turns, while a naive ask bonus
 * makes it over-ask (mechanics-B §22, [TXT/INF]).
 */
import { AdvantageStep, SoftmaxPolicy } from '../learners/softmax.js';
import { ASK, EpisodeBuffer, pretrainedLogits, TOOL_ACTIONS, TOOL_DEFAULTS, TOOL_STATES, evaluateToolPolicy, runToolEpisode, type ToolTaskConfig, checkToolConfig } from '../envs/tooluse.js';
import { Rng } from '../rng.js';
import { claimOnMean, pairedDiff } from '../stats.js';
import { checkRunOptions, checkpoints, column, curveOf, forSeeds } from '../seeds.js';
import type { Experiment, ExperimentResult, RunOptions } from '../types.js';

/** Setup: half the tasks ambiguous (3 readings), no step rewards, task reward 1 for a pass. */
export const SPEAKRL_SETUP = {
  task: { ...TOOL_DEFAULTS, horizon: 8, ambiguity: 0.5, stepReward: 0, levels: { noSubmit: 0, empty: 0, fail: 0, pass: 1 } } satisfies ToolTaskConfig,
  /** λ_ask: bonus for a necessary clarifying question. */
  askBonus: 0.3,
  /** λ_over: penalty per unnecessary question. */
  overAskPenalty: 0.3,
  /** λ_turn: cost per turn. */
  turnCost: 0.02,
  groups: 16,
  groupSize: 8,
  steps: 150,
  lr: 1,
  every: 10,
  evalEpisodes: 2000,
  prior: 1.5,
};

/** How the episode reward treats clarifying questions. */
export type ClarifyReward = 'speakrl' | 'always' | 'none';

/**
 * The episode reward `R = R_task + clarification terms − λ_turn·turns`:
 * - `speakrl` (our reading of SpeakRL [INF]): `+ λ_ask·1[a necessary ask] − λ_over·#unnecessary asks`;
 * - `always` (a naive ask bonus): `+ λ_ask·1[any ask]`, whether or not the task was ambiguous;
 * - `none`: the task reward and turn cost alone.
 */
export function clarifyReward(kind: ClarifyReward, buf: EpisodeBuffer, i: number): number {
  const { askBonus, overAskPenalty, turnCost } = SPEAKRL_SETUP;
  let r = buf.outcome[i] - turnCost * buf.turns(i);
  const nec = buf.necessaryAsks[i], over = buf.overAsks[i];
  if (kind === 'speakrl') r += (nec > 0 ? askBonus : 0) - overAskPenalty * over;
  else if (kind === 'always') r += nec + over > 0 ? askBonus : 0;
  return r;
}

/** What one training run reports. */
export interface ClarifyRun {
  passAmbiguous: Float64Array;
  overAsks: Float64Array;
  finalPassAmbiguous: number;
  finalPass: number;
  finalOverAsks: number;
  finalAskedAmbiguous: number;
  finalTurns: number;
  envSteps: number;
}

/**
 * Trains the tool policy on the clarification reward `kind` (RLOO advantage of the episode reward
 * within groups of 8 episodes of one task, broadcast to its steps). `askable: false` masks the ask
 * action (the baseline that can only guess).
 */
export function trainClarify(kind: ClarifyReward, askable: boolean, seed: number): ClarifyRun {
  const { task, groups, groupSize: G, steps, lr, every, evalEpisodes, prior } = SPEAKRL_SETUP;
  checkToolConfig(task);
  const allowed = TOOL_ACTIONS.map((_, a) => (a === ASK && !askable ? 0 : 1));
  const pi = new SoftmaxPolicy(TOOL_STATES, TOOL_ACTIONS.length, pretrainedLogits(prior), allowed);
  const adv = new AdvantageStep({ estimator: 'rloo' }, groups, G);
  const rng = new Rng(seed);
  const evalRng = new Rng(seed + 2_000_003);
  const buf = new EpisodeBuffer(groups * G, task.horizon);
  const evalBuf = new EpisodeBuffer(evalEpisodes, task.horizon);
  const xs = checkpoints(steps, every);
  const passAmbiguous = new Float64Array(xs.length), overAsks = new Float64Array(xs.length);
  let envSteps = 0;
  let ci = 0;
  for (let t = 0; t <= steps; t++) {
    if (xs[ci] === t) {
      const e = evaluateToolPolicy(task, pi, evalRng, evalEpisodes / 4, evalBuf);
      envSteps += evalBuf.steps;
      passAmbiguous[ci] = e.passAmbiguous;
      overAsks[ci] = e.overAsksClear;
      ci++;
    }
    if (t === steps) break;
    pi.beginBatch();
    buf.clear();
    for (let g = 0; g < groups; g++) {
      const ambiguous = rng.next() < task.ambiguity;
      for (let j = 0; j < G; j++) runToolEpisode(task, pi, rng, ambiguous, buf);
    }
    envSteps += buf.steps;
    for (let i = 0; i < buf.size; i++) adv.rewards[i] = clarifyReward(kind, buf, i);
    const A = adv.compute();
    for (let i = 0; i < buf.size; i++) for (let k = buf.offsets[i]; k < buf.offsets[i + 1]; k++) pi.accumulate(buf.state[k], buf.action[k], A[i]);
    pi.countSample(buf.size);
    pi.step(lr);
  }
  const f = evaluateToolPolicy(task, pi, evalRng, evalEpisodes, evalBuf);
  envSteps += evalBuf.steps;
  return {
    passAmbiguous,
    overAsks,
    finalPassAmbiguous: f.passAmbiguous,
    finalPass: f.pass,
    finalOverAsks: f.overAsksClear,
    finalAskedAmbiguous: f.askedAmbiguous,
    finalTurns: f.turns,
    envSteps,
  };
}

const variants = {
  'always-reward-clarify': 'the SpeakRL arm rewards every clarifying question, needed or not (the naive ask bonus): the over-asking and turn claims must fail',
};

export const speakrlClarify: Experiment = {
  name: 'speakrl-clarify',
  title: 'SpeakRL-style clarification reward: ask when the task is ambiguous, not always',
  paper: 'SpeakRL: Synergizing Reasoning, Speaking, and Acting in Language Models with Reinforcement Learning',
  description:
    'The multi-turn tool toy with half the tasks ambiguous (3 readings; until the agent asks, a patch implements a random one), ' +
    '8 turns, task reward 1 for a pass, turn cost 0.02. Three arms, RLOO advantages: SpeakRL-style reward (+0.3 for a necessary ' +
    'question, −0.3 per unnecessary one), a naive ask bonus (+0.3 for any question), and an agent that cannot ask. Claims: asking ' +
    'on ambiguous tasks pays (higher pass rate on them than the agent that cannot ask); the naive bonus makes the agent over-ask on ' +
    'clear tasks and take more turns, the SpeakRL reward does not.',
  defaultSeeds: 10,
  variants,
  async run(opts: RunOptions): Promise<ExperimentResult> {
    const t0 = performance.now();
    const { seeds, seed0, variant } = checkRunOptions(speakrlClarify, opts);
    const kind: ClarifyReward = variant === 'always-reward-clarify' ? 'always' : 'speakrl';
    const runs = await forSeeds(opts, seeds, seed0, (seed) => ({
      speak: trainClarify(kind, true, seed),
      naive: trainClarify('always', true, seed),
      mute: trainClarify('none', false, seed),
    }));
    const x = checkpoints(SPEAKRL_SETUP.steps, SPEAKRL_SETUP.every);
    const lab = kind === 'always' ? 'SpeakRL arm (naive bonus)' : 'SpeakRL reward';
    return {
      experiment: speakrlClarify.name,
      paper: speakrlClarify.paper,
      seeds,
      ...(variant ? { variant } : {}),
      claims: [
        claimOnMean(
          'Asking when the task is ambiguous pays: a higher pass rate on ambiguous tasks than an agent that cannot ask',
          'final pass rate on ambiguous tasks, SpeakRL − no-ask agent, paired by seed',
          pairedDiff(column(runs, (r) => r.speak.finalPassAmbiguous), column(runs, (r) => r.mute.finalPassAmbiguous)),
          'greater',
        ),
        claimOnMean(
          'Asking always does not pay: the SpeakRL reward asks fewer unnecessary questions on clear tasks than the naive ask bonus',
          'final questions per clear task, SpeakRL − naive, paired by seed',
          pairedDiff(column(runs, (r) => r.speak.finalOverAsks), column(runs, (r) => r.naive.finalOverAsks)),
          'less',
        ),
        claimOnMean(
          'The SpeakRL reward completes tasks in fewer turns than the naive ask bonus',
          'final turns per episode, SpeakRL − naive, paired by seed',
          pairedDiff(column(runs, (r) => r.speak.finalTurns), column(runs, (r) => r.naive.finalTurns)),
          'less',
        ),
      ],
      curves: [
        curveOf(lab, 'pass rate on ambiguous tasks', 'training step', 'pass rate (ambiguous tasks)', x, runs.map((r) => r.speak.passAmbiguous)),
        curveOf('naive ask bonus', 'pass rate on ambiguous tasks', 'training step', 'pass rate (ambiguous tasks)', x, runs.map((r) => r.naive.passAmbiguous)),
        curveOf('cannot ask', 'pass rate on ambiguous tasks', 'training step', 'pass rate (ambiguous tasks)', x, runs.map((r) => r.mute.passAmbiguous)),
        curveOf(lab, 'unnecessary questions', 'training step', 'questions per clear task', x, runs.map((r) => r.speak.overAsks)),
        curveOf('naive ask bonus', 'unnecessary questions', 'training step', 'questions per clear task', x, runs.map((r) => r.naive.overAsks)),
      ],
      envSteps: runs.reduce((s, r) => s + r.speak.envSteps + r.naive.envSteps + r.mute.envSteps, 0),
      wallMs: performance.now() - t0,
    };
  },
};
