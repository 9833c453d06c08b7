/**
 * Writes the bundled example rollouts (run: `npx tsx examples/generate.ts`). Every question, answer and
 * completion here is written by the rewardkit project. Each question gets 8 completions of known kinds:
 * right and well formatted, right but unformatted, wrong, badly formatted, overlong, and so on.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

interface Q {
  id: string;
  question: string;
  steps: string[];
  answer: number;
  wrong: number;
}

const questions: Q[] = [
  { id: 'apples', question: 'Mara picks 14 apples on Monday and twice as many on Tuesday. She gives 9 away. How many apples does she have left?', steps: ['Tuesday: 2 × 14 = 28 apples.', 'Total: 14 + 28 = 42 apples.', 'After giving 9 away: 42 − 9 = 33.'], answer: 33, wrong: 42 },
  { id: 'train', question: 'A train travels 180 km in 2 hours and then 120 km in 1.5 hours. What is its average speed in km/h over the whole trip?', steps: ['Distance: 180 + 120 = 300 km.', 'Time: 2 + 1.5 = 3.5 hours.', 'Average speed: 300 / 3.5 ≈ 85.71 km/h.'], answer: 85.71, wrong: 80 },
  { id: 'tickets', question: 'A school sells 1,250 tickets at $4 each and 340 tickets at $6 each. How many dollars does it collect?', steps: ['1,250 × 4 = 5,000 dollars.', '340 × 6 = 2,040 dollars.', 'Total: 5,000 + 2,040 = 7,040.'], answer: 7040, wrong: 7000 },
  { id: 'garden', question: 'A rectangular garden is 12 m long and 7 m wide. A path 1 m wide runs around the outside. What is the area of the path in square metres?', steps: ['Outer rectangle: 14 m × 9 m = 126 m².', 'Garden: 12 × 7 = 84 m².', 'Path: 126 − 84 = 42 m².'], answer: 42, wrong: 38 },
  { id: 'savings', question: 'Theo saves $15 a week. After how many weeks will he have at least $200 if he starts with $35?', steps: ['He needs 200 − 35 = 165 more dollars.', '165 / 15 = 11 weeks.'], answer: 11, wrong: 13 },
  { id: 'recipe', question: 'A recipe uses 3/4 cup of sugar per batch. How many cups of sugar are needed for 6 batches?', steps: ['6 × 3/4 = 18/4 = 4.5 cups.'], answer: 4.5, wrong: 3 },
];

const filler = 'Let me double-check this step by re-reading the question carefully once more. ';

function completions(q: Q): { kind: string; text: string }[] {
  const reasoning = q.steps.join('\n');
  return [
    { kind: 'right', text: `<think>\n${reasoning}\n</think>\n<answer>${q.answer}</answer>` },
    { kind: 'right_gsm8k', text: `<think>\n${reasoning}\n</think>\n<answer>The answer is #### ${q.answer}</answer>` },
    { kind: 'right_boxed', text: `<think>\n${reasoning}\n</think>\n<answer>$\\boxed{${q.answer}}$</answer>` },
    { kind: 'wrong', text: `<think>\n${q.steps[0]}\nSo the result is ${q.wrong}.\n</think>\n<answer>${q.wrong}</answer>` },
    { kind: 'unformatted_right', text: `${reasoning}\nThe answer is ${q.answer}.` },
    { kind: 'bad_format', text: `<answer>${q.answer}</answer>\n<think>\n${reasoning}\n</think>` },
    { kind: 'overlong_right', text: `<think>\n${filler.repeat(40)}${reasoning}\n</think>\n<answer>${q.answer}</answer>` },
    { kind: 'no_answer', text: `<think>\nI am not sure how to solve this.\n</think>\n<answer>I don't know</answer>` },
  ];
}

const gsm = questions.flatMap((q) =>
  completions(q).map((c, i) => ({ id: `${q.id}-${i}`, group: q.id, prompt: q.question, completion: c.text, reference: String(q.answer), meta: { kind: c.kind } })),
);
writeFileSync(join(here, 'gsm8k_rollouts.jsonl'), gsm.map((r) => JSON.stringify(r)).join('\n') + '\n');

// Tool-output task: the model must answer with a JSON call to a weather tool.
const toolPrompts = [
  { id: 'wx-paris', prompt: 'What will the weather be in Paris tomorrow, in Celsius?', good: { tool: 'get_forecast', arguments: { city: 'Paris', days: 1, unit: 'celsius' } } },
  { id: 'wx-lima', prompt: 'Give me the 3-day forecast for Lima in Fahrenheit.', good: { tool: 'get_forecast', arguments: { city: 'Lima', days: 3, unit: 'fahrenheit' } } },
];
const tool = toolPrompts.flatMap((p) => {
  const variants: [string, string][] = [
    ['valid', JSON.stringify(p.good)],
    ['valid_fenced', 'Calling the tool:\n```json\n' + JSON.stringify(p.good, null, 2) + '\n```'],
    ['missing_arg', JSON.stringify({ tool: p.good.tool, arguments: { city: p.good.arguments.city } })],
    ['wrong_type', JSON.stringify({ tool: p.good.tool, arguments: { ...p.good.arguments, days: 'three' } })],
    ['bad_enum', JSON.stringify({ tool: p.good.tool, arguments: { ...p.good.arguments, unit: 'kelvin' } })],
    ['not_json', `I would call get_forecast for ${p.good.arguments.city}.`],
  ];
  return variants.map(([kind, text], i) => ({ id: `${p.id}-${i}`, group: p.id, prompt: p.prompt, completion: text, reference: p.good, meta: { kind } }));
});
writeFileSync(join(here, 'tool_json_rollouts.jsonl'), tool.map((r) => JSON.stringify(r)).join('\n') + '\n');
console.log(`wrote ${gsm.length} GSM8K-style and ${tool.length} tool-output rollouts`);

// Multi-turn tool-use task: each step is one agent turn (a tool call with the tool's observation, or
// the final answer); the episode's `reference` is the expected answer. Step rewards are not given:
// the specs grade each turn with a step-scoped component (a well-formed call to a known tool).
const agentTasks = [
  {
    id: 'stock',
    prompt: 'How many units of item A-17 are left in the Lyon warehouse?',
    answer: '240',
    calls: [
      ['lookup_item("A-17")', '{"item": "A-17", "name": "hex bolt M8"}'],
      ['stock_at("A-17", "Lyon")', '{"units": 240}'],
    ],
    invalid: ['stock_at()', 'error: stock_at needs (item, site)'],
    wrongAnswer: '0',
  },
  {
    id: 'refund',
    prompt: 'Was order 5521 refunded, and for how much?',
    answer: 'yes, 18.50',
    calls: [
      ['find_order("5521")', '{"order": "5521", "status": "returned"}'],
      ['refund_status("5521")', '{"refunded": true, "amount": 18.5}'],
    ],
    invalid: ['refund_status(5521, "EUR", true)', 'error: unknown arguments'],
    wrongAnswer: 'no',
  },
];
const call = ([c, obs]: string[]) => ({ role: 'assistant', content: `call ${c}`, observation: obs });
const agent = agentTasks.flatMap((t) => {
  const kinds: [string, Record<string, unknown>[], string][] = [
    ['solves', [...t.calls.map(call), { role: 'assistant', content: `answer: ${t.answer}` }], t.answer],
    ['solves_slowly', [call(t.calls[0]!), call(t.calls[0]!), call(t.calls[1]!), { role: 'assistant', content: `answer: ${t.answer}` }], t.answer],
    ['loops', [call(t.calls[0]!), call(t.calls[0]!), call(t.calls[0]!)], `call ${t.calls[0]![0]}`],
    ['invalid_tools', [call(t.invalid), { role: 'assistant', content: `answer: ${t.wrongAnswer}` }], t.wrongAnswer],
  ];
  return kinds.map(([kind, steps, final], i) => ({ id: `${t.id}-${i}`, group: t.id, prompt: t.prompt, completion: final, reference: t.answer, steps, meta: { kind } }));
});
writeFileSync(join(here, 'agent_rollouts.jsonl'), agent.map((r) => JSON.stringify(r)).join('\n') + '\n');
console.log(`wrote ${agent.length} multi-turn rollouts`);
