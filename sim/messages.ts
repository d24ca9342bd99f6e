/**
 * The simulated sensor bus: one message = one topic and its payload, typed by shared/topics.ts.
 */
import type { TopicName, TopicPayloads } from '../shared/topics.ts';

/** A message on the vehicle's sensor bus (`topic` discriminates `payload`). */
export type SimMessage = { [K in TopicName]: { topic: K; payload: TopicPayloads[K] } }[TopicName];

/** Order of topics sharing one timestamp: a drive starts before and ends after its data. */
const TOPIC_ORDER: Record<TopicName, number> = { drive: 0, vehicle: 1, gnss: 2, perception: 3, camera: 4, radar: 5 };

/** Sort in place by tMonoNs; ties by topic (drive start first, drive end last), then stable. */
export function sortMessages(messages: SimMessage[]): SimMessage[] {
  const rank = (m: SimMessage): number => {
    if (m.topic === 'drive') return m.payload.event === 'start' ? -1 : 9;
    return TOPIC_ORDER[m.topic];
  };
  return messages.sort((a, b) => a.payload.tMonoNs - b.payload.tMonoNs || rank(a) - rank(b));
}
