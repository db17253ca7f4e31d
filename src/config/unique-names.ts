import type { z } from 'zod';

/**
 * A superRefine that asks each item of a list for a name of its own: every repeat is one
 * problem at `[index, 'name']`, worded by `message(name, firstIndex)`. A name then always
 * means one item, in logs, links and the API.
 */
export function uniqueNames<Item extends { name: string }>(
  message: (name: string, firstIndex: number) => string,
) {
  return (items: Item[], context: z.RefinementCtx) => {
    const firstIndex = new Map<string, number>();
    items.forEach((item, index) => {
      const first = firstIndex.get(item.name);
      if (first === undefined) firstIndex.set(item.name, index);
      else context.addIssue({ code: 'custom', path: [index, 'name'], message: message(item.name, first) });
    });
  };
}
