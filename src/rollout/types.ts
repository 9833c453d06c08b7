/**
 * The rollout data contract (see ARCHITECTURE.md): one sampled completion for one prompt.
 * Fields not listed here are kept as they are and written back out unchanged.
 */
export interface ChatMessage {
  role: string;
  content: string | null | Array<{ type?: string; text?: string; [k: string]: unknown }>;
  tool_calls?: unknown[];
  [k: string]: unknown;
}

/** One turn or step of a multi-turn rollout. */
export interface Step {
  role?: string;
  content?: unknown;
  reward?: number;
  value?: number;
  potential?: number;
  /** Whether the step's action could be executed (SPA's executable bonus). */
  executable?: boolean;
  /** Which agent took the step, for multi-agent credit (CoMAM). */
  agent?: string;
  /** Index of the step's last token in the response, for `credit.token_rewards`. */
  last_token?: number;
  [k: string]: unknown;
}

export interface Rollout {
  /** Unique id of the rollout (required). */
  id: string;
  /** Rollouts sharing a group were sampled for the same prompt; defaults to one group per distinct prompt. */
  group?: string;
  prompt?: string | ChatMessage[];
  completion: string | ChatMessage[];
  /** Ground truth the graders compare against: any JSON value. */
  reference?: unknown;
  steps?: Step[];
  meta?: Record<string, unknown>;
  /**
   * The completion's token ids as the policy generated them (TRL passes them to reward functions as
   * `completion_ids`): non-negative integers. Only their count is used — it is the length that
   * `length` with `unit: tokens` and the token-length diagnostics read first. `null` = absent.
   */
  completion_ids?: number[] | null;
  /**
   * The completion's length in the policy's tokens (verl's `valid_response_length`): a non-negative
   * integer, read when `completion_ids` is absent. `null` = absent.
   */
  response_length?: number | null;
  [k: string]: unknown;
}

/**
 * What a grader sees: the rollout plus its text forms, computed once per rollout by the pipeline.
 * `completion` is the completion as plain text (for chat completions: the assistant messages' text,
 * joined by a blank line); `prompt` likewise for the prompt.
 */
export interface Sample {
  readonly rollout: Rollout;
  readonly id: string;
  readonly group: string;
  readonly completion: string;
  readonly prompt: string;
  readonly reference: unknown;
  readonly meta: Readonly<Record<string, unknown>>;
}

/** An error a component raised on one rollout, reported in the output's `errors`. */
export interface ComponentError {
  component: string;
  message: string;
}

/** Output rollout = input + these fields. */
export interface ScoredRollout extends Rollout {
  reward: number | null;
  components: Record<string, number | null>;
  advantage?: number | null;
  details?: Record<string, unknown>;
  errors?: ComponentError[];
}
